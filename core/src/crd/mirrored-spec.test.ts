import { describe, expect, it } from "vitest";
import { httpUrlSchema } from "./common.ts";
import { logForwardingDestinationSpecSchema } from "./log-forwarding-destination.ts";
import { mirroredSpec, restoreRedactedUrls, specUrlPaths, type SpecKind } from "./mirrored-spec.ts";
import { toStructuralSchema, type OpenApiSchema } from "./openapi.ts";
import { recordingStorageSpecSchema } from "./recording-storage.ts";

/** Every leaf of a structural schema: its dotted path (arrays as `[]`) and node. */
function leaves(node: OpenApiSchema, path = ""): { path: string; node: OpenApiSchema }[] {
  const props = node.properties as Record<string, OpenApiSchema> | undefined;
  if (props) return Object.entries(props).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
  if (node.items) return leaves(node.items as OpenApiSchema, `${path}[]`);
  return [{ path, node }];
}

const specs: Record<SpecKind, OpenApiSchema> = {
  LogForwardingDestination: toStructuralSchema(logForwardingDestinationSpecSchema),
  RecordingStorage: toStructuralSchema(recordingStorageSpecSchema),
};
const urlPattern = (toStructuralSchema(httpUrlSchema) as { pattern: string }).pattern;

describe("the spec the mirror holds", () => {
  it("has no field for a secret value: anything named like one is a Secret reference's name or key", () => {
    for (const schema of Object.values(specs)) {
      const named = leaves(schema).map((l) => l.path).filter((p) => /secret|password|token|credential|apikey/i.test(p));
      expect(named.length).toBeGreaterThan(0);
      for (const p of named) expect(p, p).toMatch(/(SecretRef|credentialsSecretRef)\.(name|key|accessKeyIdKey|secretAccessKeyKey)$/);
    }
  });

  it("knows every URL field of both CRDs, the only place a credential could be typed in (a query string)", () => {
    for (const [kind, schema] of Object.entries(specs) as [SpecKind, OpenApiSchema][]) {
      const urls = leaves(schema).filter((l) => l.node.pattern === urlPattern).map((l) => l.path);
      expect(urls.sort()).toEqual([...specUrlPaths[kind]].sort());
    }
  });

  it("cuts query strings and fragments, and Save restores the stored URL when the cut one comes back", () => {
    const stored = { webhook: { url: "https://hooks.example.com/in?token=abc#x", signingSecretRef: { name: "s", key: "k" } } };
    const mirrored = mirroredSpec("LogForwardingDestination", stored);
    expect(mirrored).toEqual({ spec: { webhook: { url: "https://hooks.example.com/in", signingSecretRef: { name: "s", key: "k" } } }, redacted: ["webhook.url"] });
    expect(restoreRedactedUrls("LogForwardingDestination", structuredClone(mirrored.spec), stored)).toEqual(stored);
    // A URL the user changed is theirs, query string or not.
    const changed = { webhook: { url: "https://hooks.example.com/other" } };
    expect(restoreRedactedUrls("LogForwardingDestination", changed, stored)).toEqual({ webhook: { url: "https://hooks.example.com/other" } });
    expect(restoreRedactedUrls("RecordingStorage", { endpoint: "https://minio/" }, undefined)).toEqual({ endpoint: "https://minio/" });
    expect(mirroredSpec("RecordingStorage", { endpoint: "not a url?x=1" })).toEqual({ spec: { endpoint: "" }, redacted: ["endpoint"] });
  });
});
