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

  it("projects a destination with its tenant, endpoint, status and delivery statistics, and no Secret reference", () => {
    const delivery = { delivered: 4, deadLettered: 1, lastError: "dead-lettered seq 5: HTTP 400" };
    const row = mirrorRowOf("LogForwardingDestination", object({ splunkHec: { url: "https://splunk.example.com:8088/?x=1", tokenSecretRef: ref } }, { type: "splunkHec", conditions: [{ type: "Ready" }], delivery }), ns("team-a", { "trailkeeper.dev/tenant": "acme" }));
    expect(row).toMatchObject({ tenant: "acme", type: "splunkHec", enabled: true, endpoint: "https://splunk.example.com:8088/", delivery, lastError: delivery.lastError, createdAt: "2026-12-01T00:00:00Z", generation: 2 });
    expect(JSON.stringify(row)).not.toContain("creds");
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

  it("mirrors nothing for a namespace without a valid tenant, or one not yet in the cache", () => {
    expect(mirrorRowOf("LogForwardingDestination", object({ webhook: { url: "https://x.example/" } }), ns("team-a", { "trailkeeper.dev/tenant": "Not Valid" }))).toBeUndefined();
    expect(mirrorRowOf("LogForwardingDestination", object({ webhook: { url: "https://x.example/" } }), undefined)).toBeUndefined();
  });
});
