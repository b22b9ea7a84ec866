import { describe, expect, it } from "vitest";
import { logForwardingDestinationSpecSchema } from "../../../../core/src/crd/log-forwarding-destination.ts";
import { blockFields, buildSpec, destinationKinds, initialValues, nameProblem, secretNameOf, validateSpec, valuesFromMirror, valuesFromSpec, type DestinationKind } from "./form-model.ts";
import type { MirroredResource } from "../../api/types.ts";

const ref = (name: string, key: string) => ({ name, key });
const tls = { caSecretRef: ref("siem-ca", "ca.crt"), clientCertSecretRef: ref("siem-mtls", "tls.crt"), clientKeySecretRef: ref("siem-mtls", "tls.key"), insecureSkipVerify: false, serverName: "siem.internal" };
/** What every kind carries besides its block: set to non-defaults, plus a field this console does not know. */
const shared = {
  enabled: false,
  filter: { categories: ["auth", "secrets"], actions: ["user.login", "secret.*"] },
  checkInterval: "2m",
  timeout: "20s",
  delivery: { batchSize: 100, batchBytes: 65536, flushInterval: "2s", maxBackoff: "10m", onPermanentError: "pause" },
  futureSetting: { nested: [1, { deep: true }] },
};

/** A full, valid spec of each kind, every field set, Secret references in Secrets not named after the resource. */
const fullSpecs: Record<DestinationKind, Record<string, unknown>> = {
  webhook: { ...shared, format: "ocsf", webhook: { url: "https://siem.example.com/in", signingSecretRef: ref("hooks", "whsec"), tls, allowInsecureHttp: false, extra: "kept" } },
  splunkHec: {
    ...shared, format: "cef",
    splunkHec: { url: "http://splunk.example.com:8088", tokenSecretRef: ref("splunk", "hec-token"), index: "audit", source: "tk", sourcetype: "tk:audit", host: "prod-1", indexerAcknowledgement: true, tls, allowInsecureHttp: true },
  },
  datadog: {
    ...shared, format: "native",
    datadog: { site: "datadoghq.eu", apiKeySecretRef: ref("dd", "api-key"), endpoint: "https://dd-proxy.example.com", service: "audit", source: "tk", tags: ["env:prod", "team:sec"], tls, allowInsecureHttp: false },
  },
  elasticsearch: {
    ...shared, format: "ecs",
    elasticsearch: { url: "https://es.example.com:9200", dataStream: "logs-tk.audit-prod", basicAuth: { username: "writer", passwordSecretRef: ref("es", "pw") }, tls: { ...tls, insecureSkipVerify: true }, allowInsecureHttp: false },
  },
  syslog: { ...shared, format: "leef", syslog: { host: "2001:db8::5", port: 6515, transport: "relp-tls", facility: 10, appName: "tk-audit", tls } },
};

/** spec → form → spec, the way Edit runs it: the Secret name field starts as the spec's own. */
const roundTrip = (kind: DestinationKind, spec: Record<string, unknown>, change: Record<string, string | boolean> = {}) =>
  buildSpec(kind, { ...valuesFromSpec(kind, spec), ...change }, secretNameOf(kind, spec) ?? "x-credentials", spec);

describe("destination form model", () => {
  it("has fields, with hints from the CRD schema, for every destination type", () => {
    for (const kind of destinationKinds) expect(blockFields[kind].length).toBeGreaterThan(0);
    expect(blockFields.webhook.find((f) => f.id === "webhook.url")!.hint).toMatch(/Receiver URL/);
    expect(blockFields.datadog.find((f) => f.id === "datadog.site")!.options).toContain("datadoghq.eu");
    expect(blockFields.syslog.find((f) => f.id === "syslog.transport")!.options).toEqual(["udp", "tcp", "tls", "relp", "relp-tls"]);
  });

  it("builds only what was filled in, secret references pointing at the inline secret", () => {
    const values = { ...initialValues("webhook"), "webhook.url": " https://siem.example.com/a ", "webhook.signingSecretRef": "whsec_abc" };
    const built = buildSpec("webhook", values, "siem-credentials");
    expect(built.spec).toEqual({ enabled: true, webhook: { url: "https://siem.example.com/a", signingSecretRef: { name: "siem-credentials", key: "signingSecret" } } });
    expect(built.secrets).toEqual({ "siem-credentials": { signingSecret: "whsec_abc" } });
    expect(validateSpec("webhook", values, built)).toEqual({ fields: {}, general: [] });
  });

  it("files the CRD's own rule messages under the field they concern", () => {
    const values = { ...initialValues("webhook"), "webhook.url": "http://siem.example.com", timeout: "5 minutes" };
    const v = validateSpec("webhook", values, buildSpec("webhook", values, "Bad_Name"));
    expect(v.fields["webhook.url"]).toBe("url must use https:// (set allowInsecureHttp: true to allow plain http)");
    expect(v.fields.timeout).toMatch(/duration/);
    expect(v.fields._secretName).toMatch(/Secret name/);
  });

  it("follows the visible fields: Elasticsearch basic auth, syslog ports as numbers", () => {
    const es = { ...initialValues("elasticsearch"), _auth: "basic", "elasticsearch.url": "https://es:9200", "elasticsearch.index": "audit", "elasticsearch.basicAuth.username": "u", "elasticsearch.basicAuth.passwordSecretRef": "p" };
    const built = buildSpec("elasticsearch", es, "es");
    expect(built.spec.elasticsearch).toEqual({ url: "https://es:9200", index: "audit", basicAuth: { username: "u", passwordSecretRef: { name: "es", key: "password" } } });
    const sys = { ...initialValues("syslog"), "syslog.host": "log.example.com", "syslog.port": "70000", "syslog.transport": "udp" };
    const v = validateSpec("syslog", sys, buildSpec("syslog", sys, "x"));
    expect(v.fields["syslog.port"]).toMatch(/65535/);
  });

  it("reads an existing destination back from its mirror row", () => {
    const m = { type: "syslog", enabled: false, format: "cef", endpoint: "tcp://[2001:db8::1]:1514", details: { transport: "tcp" } } as unknown as MirroredResource;
    expect(valuesFromMirror(m)).toEqual({ kind: "syslog", values: { enabled: false, format: "cef", "syslog.transport": "tcp", "syslog.host": "2001:db8::1", "syslog.port": "1514" } });
  });

  it("gives back every full spec unchanged when nothing is edited (all five kinds)", () => {
    for (const kind of destinationKinds) {
      const spec = fullSpecs[kind];
      expect(logForwardingDestinationSpecSchema.safeParse(spec).success, kind).toBe(true);
      const before = structuredClone(spec);
      expect(roundTrip(kind, spec), kind).toEqual({ spec: before, secrets: {} });
      expect(spec, kind).toEqual(before);
      // Minimal specs too: defaults the form shows (tls transport, datadoghq.com) are not written in.
      const minimal = { [kind]: { ...structuredClone(spec[kind] as object) } } as Record<string, Record<string, unknown>>;
      for (const k of ["tls", "port", "transport", "site", "sourcetype", "facility", "appName", "service", "source", "allowInsecureHttp", "indexerAcknowledgement"]) delete minimal[kind]![k];
      if (kind === "splunkHec") minimal.splunkHec!.url = "https://splunk.example.com:8088";
      expect(roundTrip(kind, minimal).spec, kind).toEqual(minimal);
    }
  });

  it("shows every field the form has from the spec", () => {
    expect(valuesFromSpec("splunkHec", fullSpecs.splunkHec)).toEqual({
      enabled: false, format: "cef", checkInterval: "2m", timeout: "20s",
      "splunkHec.url": "http://splunk.example.com:8088", "splunkHec.tokenSecretRef": "", "splunkHec.index": "audit", "splunkHec.source": "tk", "splunkHec.sourcetype": "tk:audit",
      "splunkHec.host": "prod-1", "splunkHec.indexerAcknowledgement": true, "splunkHec.allowInsecureHttp": true, "splunkHec.tls.insecureSkipVerify": false,
    });
    expect(valuesFromSpec("datadog", fullSpecs.datadog)["datadog.tags"]).toBe("env:prod team:sec");
    expect(valuesFromSpec("elasticsearch", fullSpecs.elasticsearch)).toMatchObject({ _auth: "basic", "elasticsearch.basicAuth.username": "writer", "elasticsearch.tls.insecureSkipVerify": true, "elasticsearch.dataStream": "logs-tk.audit-prod" });
    expect(valuesFromSpec("syslog", fullSpecs.syslog)).toMatchObject({ "syslog.host": "2001:db8::5", "syslog.port": "6515", "syslog.transport": "relp-tls", "syslog.facility": "10" });
  });

  it("changes only the field edited, and puts a retyped secret into the Secret and key the spec references", () => {
    const spec = fullSpecs.splunkHec;
    const edited = roundTrip("splunkHec", spec, { "splunkHec.index": "audit_v2", "splunkHec.tokenSecretRef": "new-token" });
    expect(edited.spec).toEqual({ ...spec, splunkHec: { ...(spec.splunkHec as object), index: "audit_v2" } });
    expect(edited.secrets).toEqual({ splunk: { "hec-token": "new-token" } });
    const cleared = roundTrip("datadog", fullSpecs.datadog, { "datadog.tags": "", "datadog.endpoint": " " });
    const { tags: _t, endpoint: _e, ...rest } = fullSpecs.datadog.datadog as Record<string, unknown>;
    expect(cleared.spec).toEqual({ ...fullSpecs.datadog, datadog: rest });
    expect(roundTrip("webhook", fullSpecs.webhook, { enabled: true }).spec).toEqual({ ...fullSpecs.webhook, enabled: true });
  });

  it("drops what a switched-away choice needed: Elasticsearch credentials, syslog TLS", () => {
    const es = roundTrip("elasticsearch", fullSpecs.elasticsearch, { _auth: "apiKey", "elasticsearch.apiKeySecretRef": "ZW5jb2RlZA==" });
    expect((es.spec.elasticsearch as Record<string, unknown>).basicAuth).toBeUndefined();
    expect((es.spec.elasticsearch as Record<string, unknown>).apiKeySecretRef).toEqual({ name: "es", key: "apiKey" });
    expect(es.secrets).toEqual({ es: { apiKey: "ZW5jb2RlZA==" } });
    const tcp = roundTrip("syslog", fullSpecs.syslog, { "syslog.transport": "tcp" });
    expect(tcp.spec.syslog).toEqual({ host: "2001:db8::5", port: 6515, transport: "tcp", facility: 10, appName: "tk-audit" });
    expect(validateSpec("syslog", { ...valuesFromSpec("syslog", fullSpecs.syslog), "syslog.transport": "tcp" }, tcp)).toEqual({ fields: {}, general: [] });
  });

  it("edits from the mirror's spec, and from its display fields only when a row has no spec yet", () => {
    const m = { type: "syslog", enabled: false, format: "leef", endpoint: "relp-tls://[2001:db8::5]:6515", details: {}, spec: fullSpecs.syslog } as unknown as MirroredResource;
    expect(valuesFromMirror(m)).toEqual({ kind: "syslog", values: valuesFromSpec("syslog", fullSpecs.syslog) });
  });

  it("checks Kubernetes names", () => {
    expect(nameProblem("siem", "name")).toBeUndefined();
    expect(nameProblem("Siem", "name")).toMatch(/lowercase/);
    expect(nameProblem("", "namespace")).toMatch(/required/);
  });
});
