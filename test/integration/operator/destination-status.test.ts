import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { RunningOperator } from "../../../operator/src/operator.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../protocol-servers/webhook-receiver.ts";
import {
  condition,
  createResource,
  createTestNamespace,
  deleteTestNamespace,
  eventsFor,
  getResource,
  patchSpec,
  putSecret,
  setNamespaceLabels,
  testKube,
  type CustomResourceJson,
} from "../../support/kube-client.ts";
import { startTestOperator, testOperatorEnv } from "../../support/kube-operator.ts";

const kube = testKube(inject("kubeconfigPath"));
const signingSecret = () => `whsec_${randomBytes(32).toString("base64")}`;
const goodSecret = signingSecret();
let namespace: string;
let receiver: WebhookReceiver;
let operator: RunningOperator;

beforeAll(async () => {
  namespace = await createTestNamespace(kube, "op-lfd");
  receiver = await startWebhookReceiver({ secret: goodSecret });
  // A 1 s resync makes "nothing changed, nothing written" observable within a test.
  operator = await startTestOperator(testOperatorEnv(kube.kubeconfigPath, namespace, { RESYNC_SECONDS: "1" }));
});

afterAll(async () => {
  await operator?.stop();
  await receiver?.close();
  if (namespace) await deleteTestNamespace(kube, namespace);
});

const webhookSpec = (secretName: string, extra: Record<string, unknown> = {}) => ({
  webhook: { url: `${receiver.url}/ingest`, allowInsecureHttp: true, signingSecretRef: { name: secretName, key: "signing-secret" } },
  ...extra,
});

/** Polls the resource until `expectation` passes (an operator reacts to watch events, so this is quick). */
async function eventually(name: string, expectation: (r: CustomResourceJson) => void, timeout = 10_000): Promise<CustomResourceJson> {
  return vi.waitFor(
    async () => {
      const r = await getResource(kube, "logforwardingdestinations", namespace, name);
      expectation(r);
      return r;
    },
    { timeout, interval: 100 },
  );
}

const readyIs = (status: string, reason?: string) => (r: CustomResourceJson) => {
  expect(condition(r, "Ready")).toMatchObject({ status, ...(reason === undefined ? {} : { reason }) });
  expect(r.status.observedGeneration).toBe(r.metadata.generation);
};

describe("LogForwardingDestination status against a real API server", () => {
  it("tests a webhook destination and reports Ready=True with lastCheck and the observed generation", async () => {
    await putSecret(kube, namespace, "siem", { "signing-secret": goodSecret });
    await createResource(kube, "logforwardingdestinations", namespace, "siem", webhookSpec("siem"));
    const r = await eventually("siem", readyIs("True", "Succeeded"));
    expect(r.status.type).toBe("webhook");
    expect(r.status.format).toBe("native"); // spec.format left out: the kind's default, shown in the FORMAT column
    expect(r.status.lastCheck).toMatchObject({ success: true, reason: "Succeeded" });
    expect(Date.now() - Date.parse(r.status.lastCheck.time)).toBeLessThan(60_000);
    expect(typeof r.status.lastCheck.latencyMs).toBe("number");
    expect(condition(r, "Stalled")).toBeUndefined();
    expect(condition(r, "Reconciling")).toBeUndefined();
    expect(receiver.received.some((d) => (d.payload as { type?: string }).type === "trailkeeper.test")).toBe(true);
    await vi.waitFor(async () => expect(await eventsFor(kube, namespace, "siem")).toContainEqual(expect.objectContaining({ type: "Normal", reason: "Succeeded" })));
  });

  it("reports a bad credential put into the referenced Secret within 10 s, and recovers when it is fixed", async () => {
    const before = await eventually("siem", readyIs("True"));
    await putSecret(kube, namespace, "siem", { "signing-secret": signingSecret() });
    const broken = await eventually("siem", readyIs("False", "InvalidCredentials"), 10_000);
    expect(broken.status.lastCheck).toMatchObject({ success: false, reason: "InvalidCredentials" });
    expect(condition(broken, "Ready")!.lastTransitionTime >= condition(before, "Ready")!.lastTransitionTime).toBe(true);
    expect(receiver.rejected.length).toBeGreaterThan(0);
    await vi.waitFor(async () => expect(await eventsFor(kube, namespace, "siem")).toContainEqual(expect.objectContaining({ type: "Warning", reason: "InvalidCredentials" })));

    await putSecret(kube, namespace, "siem", { "signing-secret": goodSecret });
    await eventually("siem", readyIs("True", "Succeeded"), 10_000);
  });

  it("does not rewrite an unchanged status, test again or emit events across periodic resyncs", async () => {
    const settled = await eventually("siem", readyIs("True"));
    const checksBefore = receiver.received.length;
    const eventsBefore = (await eventsFor(kube, namespace, "siem")).length;
    const relistsBefore = (await operator.metrics.relists.get()).values.find((v) => v.labels.resource === "logforwardingdestinations")?.value ?? 0;
    await new Promise((r) => setTimeout(r, 3500));
    const relistsAfter = (await operator.metrics.relists.get()).values.find((v) => v.labels.resource === "logforwardingdestinations")?.value ?? 0;
    expect(relistsAfter - relistsBefore).toBeGreaterThanOrEqual(2);
    const after = await getResource(kube, "logforwardingdestinations", namespace, "siem");
    expect(after.metadata.resourceVersion).toBe(settled.metadata.resourceVersion);
    expect(receiver.received.length).toBe(checksBefore);
    expect((await eventsFor(kube, namespace, "siem")).length).toBe(eventsBefore);
  });

  it("reports a missing Secret as SecretNotFound and Stalled, and tests once the Secret appears", async () => {
    await createResource(kube, "logforwardingdestinations", namespace, "late", webhookSpec("late-secret"));
    const stalled = await eventually("late", readyIs("False", "SecretNotFound"));
    expect(condition(stalled, "Stalled")).toMatchObject({ status: "True", reason: "SecretNotFound" });
    expect(condition(stalled, "Ready")!.message).toContain('"late-secret"');
    await putSecret(kube, namespace, "late-secret", { "signing-secret": goodSecret });
    const ready = await eventually("late", readyIs("True", "Succeeded"));
    expect(condition(ready, "Stalled")).toBeUndefined();
  });

  it("reports a missing key as SecretKeyNotFound", async () => {
    await putSecret(kube, namespace, "wrong-key", { token: goodSecret });
    await createResource(kube, "logforwardingdestinations", namespace, "wrong-key", webhookSpec("wrong-key"));
    const r = await eventually("wrong-key", readyIs("False", "SecretKeyNotFound"));
    expect(condition(r, "Ready")!.message).toBe('Secret "wrong-key" has no key "signing-secret"');
  });

  it("reports a disabled destination as Disabled without testing it, and tests it once enabled", async () => {
    const checksBefore = receiver.received.length;
    await createResource(kube, "logforwardingdestinations", namespace, "off", webhookSpec("siem", { enabled: false }));
    const off = await eventually("off", readyIs("False", "Disabled"));
    expect(off.status.lastCheck).toBeUndefined();
    expect(condition(off, "Stalled")).toBeUndefined();
    expect(receiver.received.length).toBe(checksBefore);
    expect(operator.destinations.get(`${namespace}/off`)).toBeUndefined();

    await patchSpec(kube, "logforwardingdestinations", namespace, "off", { enabled: true });
    const on = await eventually("off", readyIs("True", "Succeeded"));
    expect(on.status.observedGeneration).toBe(2);
  });

  it("follows a spec change to the new generation", async () => {
    const changed = await patchSpec(kube, "logforwardingdestinations", namespace, "off", { webhook: { url: "http://127.0.0.1:1/nothing-listens" } });
    const r = await eventually("off", readyIs("False", "Unreachable"));
    expect(r.status.observedGeneration).toBe(changed.metadata.generation);
    expect(condition(r, "Ready")!.observedGeneration).toBe(changed.metadata.generation);
  });

  it("serves the namespace's tenant, follows its label, and refuses an invalid one", async () => {
    const key = `${namespace}/siem`;
    expect(operator.destinations.get(key)).toMatchObject({ tenant: namespace, kind: "webhook" });
    expect(operator.destinations.get(key)!.secrets.get({ name: "siem", key: "signing-secret" })?.toString()).toBe(goodSecret);

    await setNamespaceLabels(kube, namespace, { "trailkeeper.dev/tenant": "acme" });
    await vi.waitFor(() => expect(operator.destinations.get(key)?.tenant).toBe("acme"), { timeout: 10_000 });

    await setNamespaceLabels(kube, namespace, { "trailkeeper.dev/tenant": "Not_A_Label" });
    const refused = await eventually("siem", readyIs("False", "InvalidTenantLabel"));
    expect(condition(refused, "Stalled")).toMatchObject({ status: "True", reason: "InvalidTenantLabel" });
    expect(operator.destinations.get(key)).toBeUndefined();

    await setNamespaceLabels(kube, namespace, { "trailkeeper.dev/tenant": null });
    await eventually("siem", readyIs("True"));
    await vi.waitFor(() => expect(operator.destinations.get(key)?.tenant).toBe(namespace));
  });
});
