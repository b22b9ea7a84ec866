import type { z } from "zod";
import { logForwardingDestinationSpecSchema } from "@trailkeeper/core/crd/log-forwarding-destination.ts";
import { recordingStorageSpecSchema } from "@trailkeeper/core/crd/recording-storage.ts";

const inlineSecrets = {
  type: "object",
  description: "Secret name → key → value (UTF-8 text) for Secrets the spec references; each is created or updated with the label app.kubernetes.io/managed-by=trailkeeper-api-server. Omitted Secrets are left as they are.",
  additionalProperties: { type: "object", additionalProperties: { type: "string", maxLength: 65536 } },
};

const saved = {
  type: "object",
  required: ["namespace", "name", "created", "generation"],
  properties: { namespace: { type: "string" }, name: { type: "string" }, created: { type: "boolean" }, generation: { type: "integer" } },
};

type Paths = Record<string, Record<string, unknown>>;

/**
 * Save through the Kubernetes API (docs/api.md "Save"): its schemas, and its paths merged into the read paths of the
 * same URLs (GET and PUT share /v1/destinations/{namespace}/{name}).
 */
export function configSaveOpenApi(schema: (s: z.ZodType) => Record<string, unknown>, problems: (...codes: number[]) => Record<string, unknown>, readPaths: Paths) {
  const generation = { type: "integer", minimum: 1, description: "The generation the spec was edited from (the mirror's); 409 conflict when the live resource is at another one, or gone." };
  const request = (spec: z.ZodType) => ({ type: "object", required: ["spec"], additionalProperties: false, properties: { spec: schema(spec), secrets: inlineSecrets, generation } });
  const json = (ref: string) => ({ content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } } });
  const security = [{ apiKey: [] }, { consoleSession: [] }];
  const resource = [{ name: "namespace", in: "path", required: true, schema: { type: "string" } }, { name: "name", in: "path", required: true, schema: { type: "string" } }];
  const writeProblems = problems(400, 401, 403, 404, 409, 415, 503);
  const put = (summary: string, ref: string) => ({
    put: { summary, security, requestBody: { required: true, ...json(ref) }, responses: { "201": { description: "Created", ...json("ConfigSaved") }, "200": { description: "Updated", ...json("ConfigSaved") }, ...writeProblems } },
  });
  const save: Paths = {
    "/v1/config/capabilities": {
      get: {
        summary: "How the console can save: through the Kubernetes API in these namespaces, or as a manifest to apply (scope config:read)", security,
        responses: { "200": { description: "OK", content: { "application/json": { schema: { type: "object", required: ["save", "namespaces"], properties: { save: { type: "string", enum: ["kubernetes", "manifest"] }, namespaces: { type: "array", items: { type: "string" } } } } } } }, ...problems(400, 401, 403, 503) },
      },
    },
    "/v1/destinations/{namespace}/{name}": {
      parameters: resource,
      ...put("Create or update a LogForwardingDestination and the Secrets given inline (scope config:write)", "DestinationSaveRequest"),
      patch: {
        summary: "Enable or disable a LogForwardingDestination (scope config:write)", security,
        requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["enabled"], additionalProperties: false, properties: { enabled: { type: "boolean" } } } } } },
        responses: { "200": { description: "Saved" }, ...writeProblems },
      },
    },
    "/v1/destinations/{namespace}/{name}/replay": {
      parameters: resource,
      post: {
        summary: "Resend from a time (or seq:<n>) by setting the annotation trailkeeper.dev/replay-from (scope config:write)", security,
        requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["from"], additionalProperties: false, properties: { from: { type: "string", description: "RFC 3339 time or seq:<n>" } } } } } },
        responses: { "202": { description: "Annotation set; the operator rewinds the delivery cursor" }, ...writeProblems },
      },
    },
    "/v1/recording-storages/{namespace}/{name}": { parameters: resource, ...put("Create or update a RecordingStorage and its credentials Secret (scope config:write)", "RecordingStorageSaveRequest") },
  };
  const paths: Paths = { ...readPaths };
  for (const [url, operations] of Object.entries(save)) paths[url] = { ...paths[url], ...operations };
  return {
    schemas: { DestinationSaveRequest: request(logForwardingDestinationSpecSchema), RecordingStorageSaveRequest: request(recordingStorageSpecSchema), ConfigSaved: saved },
    paths,
  };
}
