import { z } from "zod";
import { categoryIds } from "@trailkeeper/core/events/categories.ts";
import { eventInputSchema, maxBatchEvents } from "@trailkeeper/core/events/model.ts";
import { createApiKeySchema, createTenantSchema } from "./routes/admin.ts";

function schema(s: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(s, { io: "input", unrepresentable: "any", target: "draft-2020-12" });
  return rest;
}

const problem = {
  description: "RFC 9457 problem",
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
};
const problems = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), problem]));

/** OpenAPI 3.1 document; request schemas come from the same zod schemas that validate requests. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: { title: "Trailkeeper audit API", version: "v1" },
    components: {
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "Tenant API key (tk_…)" },
        adminToken: { type: "http", scheme: "bearer", description: "Administrator token" },
      },
      schemas: {
        EventInput: schema(eventInputSchema),
        EventBatch: { type: "object", required: ["events"], additionalProperties: false, properties: { events: { type: "array", minItems: 1, maxItems: maxBatchEvents, items: { $ref: "#/components/schemas/EventInput" } } } },
        AppendResult: {
          type: "object",
          properties: { events: { type: "array", items: { type: "object", required: ["id", "seq", "hash"], properties: { id: { type: "string", format: "uuid" }, seq: { type: "integer" }, hash: { type: "string" }, duplicate: { type: "boolean" } } } } },
        },
        CreateTenant: schema(createTenantSchema),
        CreateApiKey: schema(createApiKeySchema),
        Category: { type: "string", enum: [...categoryIds] },
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
      "/healthz": { get: { summary: "Process is up", responses: { "200": { description: "ok" } } } },
      "/readyz": { get: { summary: "Database reachable and migrations applied", responses: { "200": { description: "ready" }, "503": { description: "not ready" } } } },
      "/metrics": { get: { summary: "Prometheus metrics", responses: { "200": { description: "text exposition" } } } },
    },
  };
}
