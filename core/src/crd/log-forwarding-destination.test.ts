import { describe, expect, it } from "vitest";
import { destinationFormatOf, destinationKindOf, logForwardingDestinationSpecSchema as schema } from "./log-forwarding-destination.ts";

const ref = (name: string, key = "k") => ({ name, key });
const webhook = { url: "https://siem.example.com/hook", signingSecretRef: ref("wh") };

function errors(spec: unknown): string[] {
  const r = schema.safeParse(spec);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("LogForwardingDestination spec", () => {
  it("fills defaults", () => {
    const spec = schema.parse({ webhook });
    expect(spec).toMatchObject({ enabled: true, checkInterval: "5m", timeout: "10s", webhook: { allowInsecureHttp: false } });
    expect(spec.delivery).toEqual({ batchSize: 500, batchBytes: 1048576, flushInterval: "1s", maxBackoff: "5m", onPermanentError: "deadLetter" });
    expect(destinationKindOf(spec)).toBe("webhook");
  });

  it("requires exactly one destination block", () => {
    expect(errors({})).toContain(": exactly one of webhook, splunkHec, datadog, elasticsearch, syslog must be set");
    expect(errors({ webhook, syslog: { host: "h" } })).toContain(": exactly one of webhook, splunkHec, datadog, elasticsearch, syslog must be set");
  });

  it("requires https unless allowInsecureHttp", () => {
    expect(errors({ webhook: { ...webhook, url: "http://siem.example.com/hook" } })).toEqual([
      "webhook.url: url must use https:// (set allowInsecureHttp: true to allow plain http)",
    ]);
    expect(errors({ webhook: { ...webhook, url: "http://siem.example.com/hook", allowInsecureHttp: true } })).toEqual([]);
    expect(errors({ datadog: { apiKeySecretRef: ref("dd"), endpoint: "http://proxy:8080" } })).toEqual([
      "datadog.endpoint: endpoint must use https:// (set allowInsecureHttp: true to allow plain http)",
    ]);
  });

  it.each(["ftp://x.example.com", "https://user:pass@x.example.com/", "https://", "siem.example.com", `https://x.example.com/${"a".repeat(2048)}`])(
    "rejects the URL %s",
    (url) => {
      expect(errors({ webhook: { ...webhook, url } }).length).toBeGreaterThan(0);
    },
  );

  it("requires client certificate and key together", () => {
    expect(errors({ webhook: { ...webhook, tls: { clientCertSecretRef: ref("c") } } })).toContain(
      "webhook.tls: clientCertSecretRef and clientKeySecretRef must be set together",
    );
    expect(errors({ webhook: { ...webhook, tls: { clientCertSecretRef: ref("c"), clientKeySecretRef: ref("c", "tls.key") } } })).toEqual([]);
  });

  it("validates Secret references", () => {
    expect(errors({ webhook: { ...webhook, signingSecretRef: { name: "Bad_Name", key: "k" } } }).length).toBe(1);
    expect(errors({ webhook: { ...webhook, signingSecretRef: { name: "ok", key: "a/b" } } }).length).toBe(1);
    expect(errors({ webhook: { ...webhook, signingSecretRef: { name: "ok" } } }).length).toBe(1);
  });

  it("takes Datadog sites from the enum", () => {
    expect(schema.parse({ datadog: { apiKeySecretRef: ref("dd") } }).datadog?.site).toBe("datadoghq.com");
    expect(errors({ datadog: { apiKeySecretRef: ref("dd"), site: "datadoghq.eu" } })).toEqual([]);
    expect(errors({ datadog: { apiKeySecretRef: ref("dd"), site: "EU1" } }).length).toBe(1);
    expect(errors({ datadog: { apiKeySecretRef: ref("dd"), tags: ["a,b"] } }).length).toBe(1);
  });

  it("requires one Elasticsearch target and one credential", () => {
    const es = { url: "https://es:9200", apiKeySecretRef: ref("es") };
    expect(errors({ elasticsearch: { ...es, index: "audit" } })).toEqual([]);
    expect(errors({ elasticsearch: { ...es, dataStream: "logs-trailkeeper.audit-default" } })).toEqual([]);
    expect(errors({ elasticsearch: es })).toContain("elasticsearch: exactly one of index or dataStream must be set");
    expect(errors({ elasticsearch: { ...es, index: "a", dataStream: "b" } })).toContain("elasticsearch: exactly one of index or dataStream must be set");
    expect(errors({ elasticsearch: { url: "https://es:9200", index: "a" } })).toContain("elasticsearch: exactly one of apiKeySecretRef or basicAuth must be set");
    expect(errors({ elasticsearch: { ...es, index: "Audit" } }).length).toBe(1);
    expect(errors({ elasticsearch: { url: "https://es:9200", index: "a", basicAuth: { username: "u", passwordSecretRef: ref("p") } } })).toEqual([]);
  });

  it("defaults syslog to TLS, facility 13 and accepts tls only with transports tls and relp-tls", () => {
    expect(schema.parse({ syslog: { host: "syslog.example.com" } }).syslog).toMatchObject({ transport: "tls", facility: 13, appName: "trailkeeper" });
    for (const transport of ["tcp", "udp", "relp"]) {
      expect(errors({ syslog: { host: "10.0.0.5", transport, tls: { insecureSkipVerify: true } } })).toContain("syslog.tls: tls settings apply only to transports tls and relp-tls");
    }
    expect(errors({ syslog: { host: "10.0.0.5", transport: "relp-tls", tls: { insecureSkipVerify: true } } })).toEqual([]);
    expect(errors({ syslog: { host: "10.0.0.5", transport: "relp" } })).toEqual([]);
    expect(errors({ syslog: { host: "h", facility: 24 } }).length).toBe(1);
    expect(errors({ syslog: { host: "h", port: 0 } }).length).toBe(1);
    expect(errors({ syslog: { host: "h", appName: "has space" } }).length).toBe(1);
    expect(errors({ syslog: { host: "h", transport: "sctp" } }).length).toBe(1);
  });

  it("accepts filters by category and action prefix and rejects unknown ones", () => {
    const filter = { categories: ["auth", "api_keys"], actions: ["auth.login", "user.role.*", "apikey.*"] };
    expect(errors({ webhook, filter })).toEqual([]);
    for (const bad of [{ categories: ["nope"] }, { actions: ["atuh.*"] }, { actions: ["*"] }, { actions: ["auth"] }, { actions: ["auth.Login"] }, { categories: ["auth", "auth"] }]) {
      expect(errors({ webhook, filter: bad }), JSON.stringify(bad)).not.toEqual([]);
    }
  });

  it("bounds durations", () => {
    expect(errors({ webhook, checkInterval: "1h30m" })).toEqual([]);
    expect(errors({ webhook, checkInterval: "10s" })).toEqual(["checkInterval: must be between 30s and 24h"]);
    expect(errors({ webhook, checkInterval: "25h" })).toEqual(["checkInterval: must be between 30s and 24h"]);
    expect(errors({ webhook, checkInterval: "5 minutes" }).length).toBeGreaterThan(0);
    expect(errors({ webhook, delivery: { flushInterval: "50ms" } })).toEqual(["delivery.flushInterval: must be between 100ms and 1m"]);
    expect(errors({ webhook, delivery: { onPermanentError: "drop" } }).length).toBe(1);
    expect(errors({ webhook, delivery: { batchSize: 0 } }).length).toBe(1);
  });

  it("defaults the format to each kind's former wire shape and rejects one the kind cannot carry", () => {
    expect(destinationFormatOf(schema.parse({ webhook }))).toBe("native");
    expect(destinationFormatOf(schema.parse({ elasticsearch: { url: "https://es:9200", index: "a", apiKeySecretRef: ref("es") } }))).toBe("ecs");
    expect(destinationFormatOf(schema.parse({ syslog: { host: "h" }, format: "leef" }))).toBe("leef");
    expect(errors({ splunkHec: { url: "https://s:8088", tokenSecretRef: ref("t") }, format: "cef" })).toEqual([]);
    const refused = errors({ webhook, format: "cef" });
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/^format: format is not one this destination type carries \(webhook: native, ocsf;/);
    expect(errors({ syslog: { host: "h" }, format: "ocsf" })).toHaveLength(1);
    expect(errors({ elasticsearch: { url: "https://es:9200", index: "a", apiKeySecretRef: ref("es") }, format: "native" })).toHaveLength(1);
    expect(errors({ webhook, format: "xml" })).toHaveLength(1);
  });
});
