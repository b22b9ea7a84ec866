import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseManifests, repoRoot } from "../../support/helm.ts";
import { createTestNamespace, deleteTestNamespace, testKube } from "../../support/kube-client.ts";
import { getObject, kubectl, toYamlStream } from "../../support/kube-e2e.ts";

/**
 * The CRDs as the API server enforces them: what a user gets from `kubectl apply`. The rules live in the CRDs
 * (OpenAPI schema and CEL, generated from core/src/crd/); these tests prove the API server applies them with the
 * messages the CRDs define, which unit tests of the zod schemas cannot.
 */
const kubeconfigPath = inject("kubeconfigPath");
const kube = testKube(kubeconfigPath);
const crdDir = path.join(repoRoot, "crds");
const sampleDir = path.join(crdDir, "samples");
let namespace: string;

beforeAll(async () => {
  namespace = await createTestNamespace(kube, "op-crd");
});

afterAll(async () => {
  if (namespace) await deleteTestNamespace(kube, namespace);
});

const apiVersion = "trailkeeper.dev/v1alpha1";
const secretRef = (name: string, key: string) => ({ name, key });

/** `kubectl create -f -` of one object, as a user would; returns the result without throwing. */
function create(kind: string, name: string, spec: unknown) {
  return kubectl(kubeconfigPath, ["create", "--namespace", namespace, "-f", "-"], toYamlStream([{ apiVersion, kind, metadata: { name }, spec }]));
}

function expectRejected(result: { status: number; stdout: string; stderr: string }, ...fragments: (string | RegExp)[]) {
  expect(result.status, result.stdout).not.toBe(0);
  expect(result.stderr).toContain("is invalid");
  for (const f of fragments) {
    if (typeof f === "string") expect(result.stderr).toContain(f);
    else expect(result.stderr).toMatch(f);
  }
}

/** "spec: Invalid value: <message>" (Kubernetes before 1.37 put `"object": ` between the two). */
const specRule = (message: string) => new RegExp(`spec: Invalid value: (?:"object": )?${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`);

describe("CRDs on a real API server", () => {
  it("accepts `kubectl apply --server-side -f crds/`, and both CRDs are Established with a status subresource", () => {
    // A directory without --recursive: the CRDs, not the samples below them.
    const r = kubectl(kubeconfigPath, ["apply", "--server-side", "--field-manager=trailkeeper-e2e", "-f", `${crdDir}/`]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split("\n").sort()).toEqual([
      "customresourcedefinition.apiextensions.k8s.io/logforwardingdestinations.trailkeeper.dev serverside-applied",
      "customresourcedefinition.apiextensions.k8s.io/recordingstorages.trailkeeper.dev serverside-applied",
    ]);
    for (const name of ["logforwardingdestinations.trailkeeper.dev", "recordingstorages.trailkeeper.dev"]) {
      const crd = getObject(kubeconfigPath, "customresourcedefinition", name) as unknown as {
        spec: { versions: { name: string; served: boolean; storage: boolean; subresources?: { status?: object } }[] };
        status: { conditions: { type: string; status: string }[] };
      };
      expect(crd.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: "Established", status: "True" }), expect.objectContaining({ type: "NamesAccepted", status: "True" })]));
      expect(crd.spec.versions).toEqual([expect.objectContaining({ name: "v1alpha1", served: true, storage: true, subresources: { status: {} } })]);
    }
  });

  it("accepts every sample in crds/samples/ and stores it with the schema's defaults", () => {
    const files = readdirSync(sampleDir).filter((f) => f.endsWith(".yaml"));
    const expected = files.flatMap((f) => parseManifests(readFileSync(path.join(sampleDir, f), "utf8")));
    expect(expected.filter((m) => m.kind === "LogForwardingDestination").length).toBeGreaterThanOrEqual(5);
    expect(expected.filter((m) => m.kind === "RecordingStorage").length).toBeGreaterThanOrEqual(1);

    const r = kubectl(kubeconfigPath, ["apply", "--server-side", "--field-manager=trailkeeper-e2e", "--namespace", namespace, "-f", `${sampleDir}/`]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const applied = r.stdout.trim().split("\n");
    expect(applied).toHaveLength(expected.length);
    for (const m of expected) {
      expect(applied.some((line) => line.endsWith(`/${m.metadata.name} serverside-applied`))).toBe(true);
      expect(getObject(kubeconfigPath, m.kind, m.metadata.name, namespace), `${m.kind}/${m.metadata.name}`).toBeDefined();
    }

    // Structural defaults are filled in by the API server, not by the operator.
    const webhook = getObject(kubeconfigPath, "logforwardingdestination", "siem-webhook", namespace) as unknown as { spec: Record<string, { allowInsecureHttp?: boolean } | boolean> };
    expect(webhook.spec.enabled).toBe(true);
    expect(webhook.spec.webhook).toMatchObject({ allowInsecureHttp: false });
    const syslog = getObject(kubeconfigPath, "logforwardingdestination", "syslog", namespace) as unknown as { spec: { syslog: Record<string, unknown> } };
    expect(syslog.spec.syslog).toMatchObject({ transport: "tls", facility: 13, appName: "trailkeeper" });
    const storage = getObject(kubeconfigPath, "recordingstorage", "recordings-minio", namespace) as unknown as { spec: Record<string, unknown> };
    expect(storage.spec).toMatchObject({ region: "us-east-1", forcePathStyle: true });
  });
});

describe("invalid custom resources are rejected by the API server with the CRD's messages", () => {
  const webhook = { url: "https://siem.example.com/ingest", signingSecretRef: secretRef("siem", "signing-secret") };
  const splunkHec = { url: "https://splunk.example.com:8088", tokenSecretRef: secretRef("splunk", "token") };
  const exactlyOne = "exactly one of webhook, splunkHec, datadog, elasticsearch, syslog must be set";

  it("two destination blocks", () => {
    expectRejected(create("LogForwardingDestination", "two-blocks", { webhook, splunkHec }), specRule(exactlyOne));
  });

  it("no destination block", () => {
    expectRejected(create("LogForwardingDestination", "no-block", { enabled: true, filter: { categories: ["auth"] } }), specRule(exactlyOne));
  });

  it("a value outside an enum", () => {
    const r = create("LogForwardingDestination", "bad-site", { datadog: { site: "datadoghq.de", apiKeySecretRef: secretRef("datadog", "api-key") } });
    expectRejected(r, 'spec.datadog.site: Unsupported value: "datadoghq.de": supported values: "datadoghq.com", "us3.datadoghq.com"');
    const transport = create("LogForwardingDestination", "bad-transport", { syslog: { host: "syslog.example.com", transport: "quic" } });
    expectRejected(transport, 'spec.syslog.transport: Unsupported value: "quic": supported values: "udp", "tcp", "tls", "relp", "relp-tls"');
  });

  it("a URL that is not one", () => {
    expectRejected(create("LogForwardingDestination", "not-a-url", { webhook: { ...webhook, url: "siem.example.com/ingest" } }), "spec.webhook.url: Invalid value:", "should match '^https?:\\/\\/");
    // Matches the pattern, but is not a URL: the CEL rule's message.
    expectRejected(create("LogForwardingDestination", "bad-escape", { webhook: { ...webhook, url: "https://siem.example.com:port/ingest" } }), "spec.webhook.url: Invalid value:", "must be a valid absolute URL");
  });

  it("plain http without allowInsecureHttp", () => {
    expectRejected(
      create("LogForwardingDestination", "plain-http", { webhook: { ...webhook, url: "http://siem.example.com/ingest" } }),
      "spec.webhook.url: Invalid value:",
      "url must use https:// (set allowInsecureHttp: true to allow plain http)",
    );
    expect(create("LogForwardingDestination", "plain-http-allowed", { webhook: { ...webhook, url: "http://siem.example.com/ingest", allowInsecureHttp: true } }).status).toBe(0);
  });

  it("a missing required reference", () => {
    expectRejected(create("LogForwardingDestination", "no-secret", { webhook: { url: webhook.url } }), "spec.webhook.signingSecretRef: Required value");
    expectRejected(create("LogForwardingDestination", "no-key", { webhook: { ...webhook, signingSecretRef: { name: "siem" } } }), "spec.webhook.signingSecretRef.key: Required value");
    expectRejected(create("RecordingStorage", "no-credentials", { bucket: "recordings" }), "spec.credentialsSecretRef: Required value");
    expectRejected(
      create("LogForwardingDestination", "half-mtls", { webhook: { ...webhook, tls: { clientCertSecretRef: secretRef("mtls", "tls.crt") } } }),
      "clientCertSecretRef and clientKeySecretRef must be set together",
    );
  });

  it("a format the destination type cannot carry (issue #13)", () => {
    expectRejected(create("LogForwardingDestination", "webhook-cef", { webhook, format: "cef" }), "spec.format: Invalid value:", "format is not one this destination type carries (webhook: native, ocsf;");
    expectRejected(create("LogForwardingDestination", "hec-xml", { splunkHec, format: "xml" }), 'spec.format: Unsupported value: "xml"');
  });

  it("a rule across fields of a RecordingStorage", () => {
    const spec = { bucket: "recordings", credentialsSecretRef: { name: "s3" }, serverSideEncryption: { algorithm: "AES256", kmsKeyId: "arn:aws:kms:eu-west-1:111122223333:key/1" } };
    expectRejected(create("RecordingStorage", "kms-without-kms", spec), "kmsKeyId applies only to algorithm aws:kms");
  });

  it("a change of destination type on update (a transition rule, checked against the stored object)", () => {
    expect(create("LogForwardingDestination", "typed", { webhook }).status).toBe(0);
    const r = kubectl(kubeconfigPath, ["patch", "logforwardingdestination", "typed", "--namespace", namespace, "--type=json", "-p", JSON.stringify([{ op: "remove", path: "/spec/webhook" }, { op: "add", path: "/spec/splunkHec", value: splunkHec }])]);
    expectRejected(r, "the destination type cannot change; create a new LogForwardingDestination instead");
  });

  it("stored none of the rejected objects", () => {
    const names = (kind: string) => kubectl(kubeconfigPath, ["get", kind, "--namespace", namespace, "-o", "jsonpath={.items[*].metadata.name}"]).stdout.split(" ").filter(Boolean);
    const samples = readdirSync(sampleDir).flatMap((f) => parseManifests(readFileSync(path.join(sampleDir, f), "utf8")));
    const sampleNames = (kind: string) => samples.filter((m) => m.kind === kind).map((m) => m.metadata.name);
    expect(names("logforwardingdestinations").sort()).toEqual([...sampleNames("LogForwardingDestination"), "plain-http-allowed", "typed"].sort());
    expect(names("recordingstorages").sort()).toEqual(sampleNames("RecordingStorage").sort());
  });
});
