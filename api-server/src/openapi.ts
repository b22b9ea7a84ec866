import { z } from "zod";
import { categoryIds } from "@trailkeeper/core/events/categories.ts";
import { eventInputSchema, maxBatchEvents } from "@trailkeeper/core/events/model.ts";
import { createApiKeySchema, createTenantSchema, legalHoldSchema, retentionSchema } from "./routes/admin.ts";
import { apiKeySignInSchema, linkExchangeSchema, mintViewerLinkSchema } from "./routes/console-sessions.ts";
import { configSaveOpenApi } from "./openapi-config-save.ts";
import { configTestOpenApi } from "./openapi-config-test.ts";
import { scopes } from "./services/api-keys.ts";
import { viewerScopes } from "./services/viewer-sessions.ts";

function schema(s: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(s, { io: "input", unrepresentable: "any", target: "draft-2020-12" });
  return rest;
}

const problem = {
  description: "RFC 9457 problem",
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
};
const problems = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), problem]));

const json = (ref: string) => ({ content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } } });
const tenantParam = { name: "tenant", in: "path", required: true, schema: { type: "string" } };

/** Console sign-in, sessions and one-time links (docs/api.md, "Console sessions"). */
function consolePaths(): Record<string, unknown> {
  const session = { description: "The session; Set-Cookie: tk_console=…; Path=/; HttpOnly; SameSite=Strict[; Secure]", ...json("ConsoleSession") };
  return {
    "/v1/console/sessions": {
      post: { summary: "Sign in to the console with an API key holding events:read", requestBody: { required: true, ...json("ApiKeySignIn") }, responses: { "201": session, ...problems(400, 401, 403, 415) } },
    },
    "/v1/console/sessions/exchange": {
      post: { summary: "Exchange a one-time sign-in link token for a session", requestBody: { required: true, ...json("LinkExchange") }, responses: { "201": session, ...problems(400, 401, 415) } },
    },
    "/v1/console/session": {
      get: { summary: "The current console session", security: [{ consoleSession: [] }], responses: { "200": { description: "The session", ...json("ConsoleSession") }, ...problems(401) } },
      delete: {
        summary: "Sign out: revoke the session and clear the cookie (needs x-csrf-token)", security: [{ consoleSession: [] }],
        parameters: [{ name: "x-csrf-token", in: "header", required: true, schema: { type: "string" } }],
        responses: { "204": { description: "Signed out" }, ...problems(401, 403) },
      },
    },
    "/v1/viewer-sessions": {
      post: { summary: "Mint a one-time console link for the key's own tenant (scope viewer:create)", security: [{ apiKey: [] }], requestBody: { required: false, ...json("MintViewerLink") }, responses: { "201": { description: "Minted", ...json("ViewerLink") }, ...problems(400, 401, 403, 415) } },
    },
    "/v1/admin/tenants/{tenant}/viewer-sessions": {
      parameters: [tenantParam],
      post: { summary: "Mint a one-time console link", security: [{ adminToken: [] }], requestBody: { required: false, ...json("MintViewerLink") }, responses: { "201": { description: "Minted", ...json("ViewerLink") }, ...problems(400, 401, 404, 415) } },
      get: { summary: "List the tenant's console links (never their tokens)", security: [{ adminToken: [] }], responses: { "200": { description: "Links" }, ...problems(401, 404) } },
    },
    "/v1/admin/tenants/{tenant}/viewer-sessions/{id}": {
      parameters: [tenantParam, { name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } }],
      delete: { summary: "Revoke a console link and every session made from it", security: [{ adminToken: [] }], responses: { "204": { description: "Revoked" }, ...problems(401, 404) } },
    },
  };
}

/** Retention and legal hold per tenant (docs/operations.md, "Retention"). */
function retentionPaths(): Record<string, unknown> {
  const state = { description: "The tenant's retention settings and latest boundary", ...json("RetentionState") };
  return {
    "/v1/admin/tenants/{tenant}/retention": {
      parameters: [tenantParam],
      get: { summary: "Retention period, legal hold and the latest pruning boundary", security: [{ adminToken: [] }], responses: { "200": state, ...problems(401, 404) } },
      put: { summary: "Set the retention period in days (null: keep forever); recorded as audit.retention.update", security: [{ adminToken: [] }], requestBody: { required: true, ...json("Retention") }, responses: { "200": state, ...problems(400, 401, 404, 415) } },
    },
    "/v1/admin/tenants/{tenant}/legal-hold": {
      parameters: [tenantParam],
      put: { summary: "Place or release a legal hold, which blocks pruning; recorded as audit.legal_hold.place / .release", security: [{ adminToken: [] }], requestBody: { required: true, ...json("LegalHold") }, responses: { "200": state, ...problems(400, 401, 404, 415) } },
    },
    "/v1/admin/tenants/{tenant}/prune": {
      parameters: [tenantParam],
      post: {
        summary: "Prune expired whole monthly ranges now: a checkpoint seals the boundary and audit.retention.prune records it before rows are deleted",
        security: [{ adminToken: [] }],
        responses: { "200": { description: "{tenant, prunedThrough, removed, skipped?, checkpoint?}" }, ...problems(401, 404, 409) },
      },
    },
  };
}

/** Destinations and recording storages as the operator mirrors them (docs/api.md, scope config:read). */
function configPaths(): Record<string, unknown> {
  const resource = [{ name: "namespace", in: "path", required: true, schema: { type: "string" } }, { name: "name", in: "path", required: true, schema: { type: "string" } }];
  const page = [{ name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 500, default: 50 } }, { name: "cursor", in: "query", schema: { type: "string" } }];
  const read = (summary: string, extra: Record<string, unknown> = {}, codes = [400, 401, 403]) => ({ get: { summary, security: [{ apiKey: [] }], ...extra, responses: { "200": { description: "OK" }, ...problems(...codes) } } });
  return {
    "/v1/destinations": read("The tenant's LogForwardingDestinations: type, endpoint, conditions, delivery statistics"),
    "/v1/destinations/{namespace}/{name}": { parameters: resource, ...read("One LogForwardingDestination, with its spec (URL query strings cut)", {}, [400, 401, 403, 404]) },
    "/v1/destinations/{namespace}/{name}/dead-letters": { parameters: resource, ...read("Its dead letters with their reasons, newest first", { parameters: page }, [400, 401, 403, 404]) },
    "/v1/destinations/{namespace}/{name}/delivery-history": {
      parameters: resource,
      ...read("Its delivery counters over time, oldest first (kept 7 days)", { parameters: [{ name: "since", in: "query", schema: { type: "string", format: "date-time" } }] }, [400, 401, 403, 404]),
    },
    "/v1/recording-storages": read("The tenant's RecordingStorages, each with its spec (URL query strings cut)"),
  };
}

/** OpenAPI 3.1 document; request schemas come from the same zod schemas that validate requests. */
export function openApiDocument(): Record<string, unknown> {
  const configTest = configTestOpenApi(schema, problems);
  const configSave = configSaveOpenApi(schema, problems, configPaths() as Record<string, Record<string, unknown>>);
  return {
    openapi: "3.1.0",
    info: { title: "Trailkeeper audit API", version: "v1" },
    components: {
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "Tenant API key (tk_…)" },
        adminToken: { type: "http", scheme: "bearer", description: "Administrator token" },
        consoleSession: {
          type: "apiKey", in: "cookie", name: "tk_console",
          description: "Console session cookie (HttpOnly). Accepted by the tenant GET routes in place of an API key, with the session's scopes; any other method also needs the header x-csrf-token.",
        },
      },
      schemas: {
        EventInput: schema(eventInputSchema),
        EventBatch: { type: "object", required: ["events"], additionalProperties: false, properties: { events: { type: "array", minItems: 1, maxItems: maxBatchEvents, items: { $ref: "#/components/schemas/EventInput" } } } },
        AppendResult: {
          type: "object",
          properties: { events: { type: "array", items: { type: "object", required: ["id", "seq", "hash"], properties: { id: { type: "string", format: "uuid" }, seq: { type: "integer" }, hash: { type: "string" }, duplicate: { type: "boolean" } } } } },
        },
        CreateTenant: schema(createTenantSchema),
        Retention: schema(retentionSchema),
        LegalHold: schema(legalHoldSchema),
        RetentionState: {
          type: "object",
          properties: {
            tenant: { type: "string" }, retentionDays: { type: ["integer", "null"] }, legalHold: { type: "boolean" }, legalHoldReason: { type: ["string", "null"] },
            updatedAt: { type: ["string", "null"], format: "date-time" },
            boundary: { oneOf: [{ type: "null" }, { type: "object", properties: { seq: { type: "integer" }, hash: { type: "string" }, eventId: { type: "string", format: "uuid" }, prunedAt: { type: "string", format: "date-time" } } }] },
          },
        },
        CreateApiKey: schema(createApiKeySchema),
        Category: { type: "string", enum: [...categoryIds] },
        Scope: { type: "string", enum: [...scopes] },
        ApiKeySignIn: schema(apiKeySignInSchema),
        LinkExchange: schema(linkExchangeSchema),
        MintViewerLink: schema(mintViewerLinkSchema),
        ConsoleSession: {
          type: "object",
          required: ["id", "tenant", "scopes", "expiresAt", "csrfToken", "via"],
          properties: {
            id: { type: "string", format: "uuid" }, tenant: { type: "string" },
            scopes: { type: "array", items: { type: "string", enum: [...viewerScopes] } },
            expiresAt: { type: "string", format: "date-time" },
            csrfToken: { type: "string", description: "Send as x-csrf-token on every request other than GET/HEAD made with the cookie" },
            via: { type: "string", enum: ["api_key", "link"] },
          },
        },
        ViewerLink: {
          type: "object",
          required: ["id", "token", "url", "expiresAt", "scopes"],
          properties: {
            id: { type: "string", format: "uuid" }, token: { type: "string", description: "Shown once; single use" },
            url: { type: "string", description: "<server base>/signin#token=<token>" }, expiresAt: { type: "string", format: "date-time" },
            scopes: { type: "array", items: { type: "string", enum: [...viewerScopes] } }, subject: { type: "string" },
          },
        },
        ...configTest.schemas,
        ...configSave.schemas,
        Problem: {
          type: "object",
          required: ["type", "title", "status", "code"],
          properties: {
            type: { type: "string" }, title: { type: "string" }, status: { type: "integer" }, code: { type: "string" }, detail: { type: "string" },
            errors: { type: "array", items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } } },
          },
        },
      },
    },
    paths: {
      "/v1/events": {
        post: {
          summary: "Append one event or a batch (all-or-nothing)",
          security: [{ apiKey: [] }],
          requestBody: { required: true, content: { "application/json": { schema: { oneOf: [{ $ref: "#/components/schemas/EventInput" }, { $ref: "#/components/schemas/EventBatch" }] } } } },
          responses: {
            "201": { description: "Appended (some items may be duplicates)", content: { "application/json": { schema: { $ref: "#/components/schemas/AppendResult" } } } },
            "200": { description: "Every item was already stored", content: { "application/json": { schema: { $ref: "#/components/schemas/AppendResult" } } } },
            ...problems(400, 401, 403, 413, 415),
          },
        },
      },
      "/v1/events/{id}": {
        get: {
          summary: "One stored event by id (the console's expanded row)",
          security: [{ apiKey: [] }, { consoleSession: [] }],
          parameters: [
            { name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } },
            { name: "minSeq", in: "query", required: false, description: "the event's seq: with a read replica, wait for it to apply that seq (else the primary answers)", schema: { type: "integer", minimum: 1 } },
          ],
          responses: { "200": { description: "The stored event, as in a search page" }, ...problems(400, 401, 403, 404) },
        },
      },
      "/v1/admin/tenants": {
        post: {
          summary: "Create a tenant", security: [{ adminToken: [] }],
          requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/CreateTenant" } } } },
          responses: { "201": { description: "Created" }, "200": { description: "Already existed" }, ...problems(400, 401, 415) },
        },
      },
      "/v1/admin/tenants/{tenant}/api-keys": {
        parameters: [{ name: "tenant", in: "path", required: true, schema: { type: "string" } }],
        post: {
          summary: "Create an API key (the key is shown once)", security: [{ adminToken: [] }],
          requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/CreateApiKey" } } } },
          responses: { "201": { description: "Created" }, ...problems(400, 401, 404, 415) },
        },
        get: { summary: "List API keys (no secrets)", security: [{ adminToken: [] }], responses: { "200": { description: "Keys" }, ...problems(401, 404) } },
      },
      "/v1/admin/tenants/{tenant}/api-keys/{id}": {
        parameters: [
          { name: "tenant", in: "path", required: true, schema: { type: "string" } },
          { name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } },
        ],
        delete: { summary: "Revoke an API key", security: [{ adminToken: [] }], responses: { "204": { description: "Revoked" }, ...problems(401, 404) } },
      },
      ...consolePaths(),
      ...retentionPaths(),
      ...configSave.paths,
      ...configTest.paths,
      "/healthz": { get: { summary: "Process is up", responses: { "200": { description: "ok" } } } },
      "/readyz": { get: { summary: "Database reachable and migrations applied", responses: { "200": { description: "ready" }, "503": { description: "not ready" } } } },
      "/metrics": { get: { summary: "Prometheus metrics", responses: { "200": { description: "text exposition" } } } },
    },
  };
}
