import { describe, expect, it } from "vitest";
import type { CustomObject, NamespaceObject } from "../kube/types.ts";
import { endpointWithoutCredentials, mirrorRowOf } from "./projection.ts";

const ns = (name: string, labels?: Record<string, string>): NamespaceObject => ({ metadata: { name, labels } });
const object = (spec: unknown, status: Record<string, unknown> = {}): CustomObject => ({
  metadata: { name: "siem", namespace: "team-a", uid: "u-1", generation: 2, creationTimestamp: "2026-12-01T00:00:00Z" },
  spec,
  status,
});
const ref = { name: "creds", key: "token" };

describe("mirrorRowOf", () => {
  it("keeps a URL's host and path but drops its query and fragment, which may carry tokens", () => {
    expect(endpointWithoutCredentials("https://hooks.example.com/a/b?token=xyz#frag")).toBe("https://hooks.example.com/a/b");
    expect(endpointWithoutCredentials("https://u:p@example.com/")).toBe("https://example.com/");
    expect(endpointWithoutCredentials(undefined)).toBeNull();
    expect(endpointWithoutCredentials("not a url")).toBeNull();
  });

  it("projects a destination with its tenant, endpoint, status and delivery statistics", () => {
    const delivery = { delivered: 4, deadLettered: 1, lastError: "dead-lettered seq 5: HTTP 400" };
    const row = mirrorRowOf("LogForwardingDestination", object({ splunkHec: { url: "https://splunk.example.com:8088/?x=1", tokenSecretRef: ref } }, { type: "splunkHec", conditions: [{ type: "Ready" }], delivery }), ns("team-a", { "trailkeeper.dev/tenant": "acme" }));
    expect(row).toMatchObject({ tenant: "acme", type: "splunkHec", enabled: true, endpoint: "https://splunk.example.com:8088/", delivery, lastError: delivery.lastError, createdAt: "2026-12-01T00:00:00Z", generation: 2 });
  });

  it("carries the whole spec, Secret references as names, URL query strings and fragments cut, and no status", () => {
    const spec = {
      enabled: false,
      format: "ecs",
      elasticsearch: {
        url: "https://es.example.com:9200/?token=t0ps3cret#frag", index: "audit", apiKeySecretRef: { name: "es-creds", key: "apiKey" },
        tls: { caSecretRef: { name: "es-ca", key: "ca.crt" }, serverName: "es.internal" }, allowInsecureHttp: false,
      },
      filter: { categories: ["auth"], actions: ["user.*"] },
      checkInterval: "2m",
      timeout: "20s",
      delivery: { batchSize: 100, batchBytes: 65536, flushInterval: "2s", maxBackoff: "10m", onPermanentError: "pause" },
      futureField: { kept: [1, 2] },
    };
    const row = mirrorRowOf("LogForwardingDestination", object(spec, { type: "elasticsearch", conditions: [{ type: "Ready", status: "True" }], delivery: { delivered: 1 } }), ns("team-a"))!;
    expect(row.spec).toEqual({ ...spec, elasticsearch: { ...spec.elasticsearch, url: "https://es.example.com:9200/" } });
    expect(row.specRedacted).toEqual(["elasticsearch.url"]);
    expect(JSON.stringify(row.spec)).not.toMatch(/t0ps3cret|frag|conditions|delivered/);
    expect(spec.elasticsearch.url).toContain("t0ps3cret");

    const plain = mirrorRowOf("LogForwardingDestination", object({ webhook: { url: "https://Hooks.example.com/a", signingSecretRef: ref } }), ns("team-a"))!;
    expect(plain.spec).toEqual({ webhook: { url: "https://Hooks.example.com/a", signingSecretRef: ref } });
    expect(plain.specRedacted).toEqual([]);

    const storage = mirrorRowOf("RecordingStorage", object({ bucket: "recs", endpoint: "https://minio.example.com/?X-Amz-Security-Token=abc", credentialsSecretRef: { name: "s3", accessKeyIdKey: "id" } }), ns("team-a"))!;
    expect(storage.spec).toEqual({ bucket: "recs", endpoint: "https://minio.example.com/", credentialsSecretRef: { name: "s3", accessKeyIdKey: "id" } });
    expect(storage.specRedacted).toEqual(["endpoint"]);
  });

  it("writes syslog as transport://host:port with the transport's default port", () => {
    expect(mirrorRowOf("LogForwardingDestination", object({ syslog: { host: "10.0.0.5", transport: "tls" } }), ns("team-a"))?.endpoint).toBe("tls://10.0.0.5:6514");
    expect(mirrorRowOf("LogForwardingDestination", object({ syslog: { host: "::1", port: 601 } }), ns("team-a"))?.endpoint).toBe("tcp://[::1]:601");
  });

  it("projects a storage with its bucket details and a disabled destination as disabled", () => {
    const storage = mirrorRowOf("RecordingStorage", object({ bucket: "recs", region: "eu-west-1", credentialsSecretRef: { name: "s3" } }), ns("team-a"));
    expect(storage).toMatchObject({ type: "s3", endpoint: null, details: { bucket: "recs", region: "eu-west-1", prefix: "", forcePathStyle: false } });
    expect(mirrorRowOf("LogForwardingDestination", object({ enabled: false, webhook: { url: "https://x.example/" } }), ns("team-a"))?.enabled).toBe(false);
  });

  it("names the GitOps tool that manages a resource, and null otherwise", () => {
    const tracked: CustomObject = { ...object({ webhook: { url: "https://x.example/" } }), metadata: { name: "siem", namespace: "team-a", labels: { "argocd.argoproj.io/instance": "audit" } } };
    expect(mirrorRowOf("LogForwardingDestination", tracked, ns("team-a"))?.managedBy).toEqual({ tool: "argocd", reason: "label argocd.argoproj.io/instance=audit" });
    expect(mirrorRowOf("RecordingStorage", object({ bucket: "recs", credentialsSecretRef: { name: "s3" } }), ns("team-a"))?.managedBy).toBeNull();
  });

  it("mirrors nothing for a namespace without a valid tenant, or one not yet in the cache", () => {
    expect(mirrorRowOf("LogForwardingDestination", object({ webhook: { url: "https://x.example/" } }), ns("team-a", { "trailkeeper.dev/tenant": "Not Valid" }))).toBeUndefined();
    expect(mirrorRowOf("LogForwardingDestination", object({ webhook: { url: "https://x.example/" } }), undefined)).toBeUndefined();
  });
});
