import type { z } from "zod";
import { checkReasons } from "@trailkeeper/core/checks/check-result.ts";
import { stageNames } from "@trailkeeper/core/checks/remedies.ts";
import { logForwardingDestinationSpecSchema } from "@trailkeeper/core/crd/log-forwarding-destination.ts";
import { recordingStorageSpecSchema } from "@trailkeeper/core/crd/recording-storage.ts";

const inlineSecrets = {
  type: "object",
  description: "Secret name → key → value (UTF-8 text), for every secretKeyRef of the spec; never stored, logged or echoed.",
  additionalProperties: { type: "object", additionalProperties: { type: "string", maxLength: 65536 } },
};

const report = {
  type: "object",
  required: ["ok", "reason", "message", "durationMs", "target", "stages"],
  properties: {
    ok: { type: "boolean" },
    reason: { type: "string", enum: [...checkReasons] },
    message: { type: "string", description: "Any secret value in it is replaced by [redacted]" },
    durationMs: { type: "integer" },
    target: { type: "string", description: "The endpoint tested, without query string or credentials" },
    stages: {
      type: "array",
      items: {
        type: "object",
        required: ["name", "status", "durationMs", "detail"],
        properties: {
          name: { type: "string", enum: [...stageNames] },
          status: { type: "string", enum: ["passed", "failed", "skipped"] },
          durationMs: { type: "integer" },
          detail: { type: "string" },
          remedy: { type: "string", description: "What to change; only on the failed stage" },
        },
      },
    },
  },
};

/** Test before saving (docs/api.md "Testing a destination"): schemas and paths, merged into the OpenAPI document. */
export function configTestOpenApi(schema: (s: z.ZodType) => Record<string, unknown>, problems: (...codes: number[]) => Record<string, unknown>) {
  const request = (spec: z.ZodType) => ({ type: "object", required: ["spec"], properties: { spec: schema(spec), secrets: inlineSecrets } });
  const json = (ref: string) => ({ content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } } });
  const post = (summary: string, ref: string) => ({
    post: {
      summary, security: [{ apiKey: [] }, { consoleSession: [] }], requestBody: { required: true, ...json(ref) },
      responses: { "200": { description: "The test ran (ok says whether it passed)", ...json("ConfigTestReport") }, ...problems(400, 401, 403, 415, 429) },
    },
  });
  return {
    schemas: { DestinationTestRequest: request(logForwardingDestinationSpecSchema), RecordingStorageTestRequest: request(recordingStorageSpecSchema), ConfigTestReport: report },
    paths: {
      "/v1/destinations/test": post("Test a LogForwardingDestination spec with inline secrets, stage by stage (scope config:test)", "DestinationTestRequest"),
      "/v1/recording-storages/test": post("Test a RecordingStorage spec with inline secrets, stage by stage (scope config:test)", "RecordingStorageTestRequest"),
    },
  };
}
