import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { RunningOperator } from "../../../operator/src/operator.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../protocol-servers/webhook-receiver.ts";
import { startKubeApiServer, type KubeApiServer } from "../../support/kube.ts";
import { condition, createResource, createTestNamespace, getResource, putSecret, testKube, type TestKube } from "../../support/kube-client.ts";
import { startTestOperator, testOperatorEnv } from "../../support/kube-operator.ts";

// This file restarts its API server, so it runs its own instead of the shared one.
let server: KubeApiServer;
let kube: TestKube;
let namespace: string;
let receiver: WebhookReceiver;
let operator: RunningOperator;
const goodSecret = `whsec_${randomBytes(32).toString("base64")}`;
const badSecret = () => `whsec_${randomBytes(32).toString("base64")}`;

beforeAll(async () => {
  server = await startKubeApiServer();
  kube = testKube(server.kubeconfigPath);
  namespace = await createTestNamespace(kube, "op-watch");
  receiver = await startWebhookReceiver({ secret: goodSecret });
  await putSecret(kube, namespace, "siem", { "signing-secret": goodSecret });
  await createResource(kube, "logforwardingdestinations", namespace, "siem", {
    webhook: { url: `${receiver.url}/ingest`, allowInsecureHttp: true, signingSecretRef: { name: "siem", key: "signing-secret" } },
  });
  operator = await startTestOperator(testOperatorEnv(server.kubeconfigPath, namespace));
  await waitForReason("Succeeded");
}, 240_000);

afterAll(async () => {
  await operator?.stop();
  await receiver?.close();
  await server?.stop(); // the whole apiserver goes, so there is nothing to clean up inside it
});

async function waitForReason(reason: string, timeout = 10_000): Promise<void> {
  await vi.waitFor(
    async () => expect(condition(await getResource(kube, "logforwardingdestinations", namespace, "siem"), "Ready")?.reason).toBe(reason),
    { timeout, interval: 100 },
  );
}

async function restarts(resource: string): Promise<Record<string, number>> {
  const values = (await operator.metrics.watchRestarts.get()).values.filter((v) => v.labels.resource === resource);
  return Object.fromEntries(values.map((v) => [String(v.labels.reason), v.value]));
}

describe("watch supervision against a real API server", () => {
  it("reconnects a watch closed under it and still sees the next Secret change", async () => {
    operator.informers.secrets.restartWatch();
    operator.informers.logForwardingDestinations.restartWatch();
    await vi.waitFor(async () => expect((await restarts("secrets")).forced).toBe(1));
    await putSecret(kube, namespace, "siem", { "signing-secret": badSecret() });
    await waitForReason("InvalidCredentials");
    await putSecret(kube, namespace, "siem", { "signing-secret": goodSecret });
    await waitForReason("Succeeded");
  });

  it("survives an API server restart: watches fail, back off, resume or relist, and reconciles continue", async () => {
    const before = await restarts("secrets");
    await server.restart();
    await vi.waitFor(() => expect(operator.ready()).toBe(true), { timeout: 30_000 });
    await vi.waitFor(async () => expect(operator.leader.isLeader).toBe(true), { timeout: 30_000 });

    await putSecret(kube, namespace, "siem", { "signing-secret": badSecret() });
    await waitForReason("InvalidCredentials", 45_000);
    const after = await restarts("secrets");
    const failures = (r: Record<string, number>) => (r.error ?? 0) + (r.expired ?? 0) + (r.timeout ?? 0) + (r.closed ?? 0);
    expect(failures(after)).toBeGreaterThan(failures(before));

    await putSecret(kube, namespace, "siem", { "signing-secret": goodSecret });
    await waitForReason("Succeeded");
  }, 120_000);
});
