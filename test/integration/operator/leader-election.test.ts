import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { startWebhookReceiver, type WebhookReceiver } from "../../protocol-servers/webhook-receiver.ts";
import { condition, createResource, createTestNamespace, deleteTestNamespace, getResource, putSecret, testKube } from "../../support/kube-client.ts";
import { metricValue, spawnOperator, testOperatorEnv, type OperatorProcess } from "../../support/kube-operator.ts";

const kube = testKube(inject("kubeconfigPath"));
const secret = `whsec_${randomBytes(32).toString("base64")}`;
const leaseSeconds = 4;
let namespace: string;
let receiver: WebhookReceiver;
const processes: OperatorProcess[] = [];

beforeAll(async () => {
  namespace = await createTestNamespace(kube, "op-leader");
  receiver = await startWebhookReceiver({ secret });
  await putSecret(kube, namespace, "siem", { "signing-secret": secret });
  await createResource(kube, "logforwardingdestinations", namespace, "siem", {
    webhook: { url: `${receiver.url}/ingest`, allowInsecureHttp: true, signingSecretRef: { name: "siem", key: "signing-secret" } },
  });
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop("SIGKILL")));
  await receiver?.close();
  if (namespace) await deleteTestNamespace(kube, namespace);
});

async function operatorProcess(name: string): Promise<OperatorProcess> {
  const p = await spawnOperator(testOperatorEnv(kube.kubeconfigPath, namespace, { POD_NAME: name, LEASE_DURATION_SECONDS: String(leaseSeconds) }));
  processes.push(p);
  return p;
}

async function leaseHolder(): Promise<string | undefined> {
  try {
    const lease = await kube.coordination.readNamespacedLease({ namespace, name: "trailkeeper-operator" });
    return lease.spec?.holderIdentity || undefined;
  } catch {
    return undefined;
  }
}

async function readyReason(): Promise<string | undefined> {
  return condition(await getResource(kube, "logforwardingdestinations", namespace, "siem"), "Ready")?.reason;
}

describe("leader election between two operator processes", () => {
  it("lets only the leader reconcile and write; a killed leader is replaced within the lease duration", async () => {
    const a = await operatorProcess("operator-a");
    await vi.waitFor(async () => expect(await leaseHolder()).toBe("operator-a"), { timeout: 15_000 });
    const b = await operatorProcess("operator-b");
    await vi.waitFor(async () => expect(await readyReason()).toBe("Succeeded"), { timeout: 10_000 });
    await vi.waitFor(async () => expect(metricValue(await b.metrics(), "trailkeeper_operator_relists_total", { resource: "secrets" })).toBeGreaterThan(0));
    await new Promise((r) => setTimeout(r, 1000));

    const [ma, mb] = [await a.metrics(), await b.metrics()];
    expect(metricValue(ma, "trailkeeper_operator_leader")).toBe(1);
    expect(metricValue(mb, "trailkeeper_operator_leader")).toBe(0);
    expect(metricValue(ma, "trailkeeper_operator_status_writes_total", { kind: "LogForwardingDestination" })).toBeGreaterThanOrEqual(1);
    expect(metricValue(mb, "trailkeeper_operator_status_writes_total", { kind: "LogForwardingDestination" })).toBe(0);
    expect(metricValue(mb, "trailkeeper_operator_reconciles_total", { kind: "LogForwardingDestination" })).toBe(0);
    expect(metricValue(mb, "trailkeeper_operator_checks_total", { kind: "LogForwardingDestination" })).toBe(0);

    const killedAt = Date.now();
    await a.stop("SIGKILL");
    await vi.waitFor(async () => expect(await leaseHolder()).toBe("operator-b"), { timeout: 15_000, interval: 100 });
    const takeoverMs = Date.now() - killedAt;
    // The standby waits a full lease duration from when it saw the last renewal (it polls every 500 ms with up to
    // 1.2x jitter, so it may have seen it up to ~1.1 s late), then takes over at its next poll (~1.1 s more).
    expect(takeoverMs).toBeGreaterThan(leaseSeconds * 1000 - 1500);
    expect(takeoverMs).toBeLessThan(leaseSeconds * 1000 + 2 * 1100 + 1000);

    await putSecret(kube, namespace, "siem", { "signing-secret": `whsec_${randomBytes(32).toString("base64")}` });
    await vi.waitFor(async () => expect(await readyReason()).toBe("InvalidCredentials"), { timeout: 10_000 });
    const after = await b.metrics();
    expect(metricValue(after, "trailkeeper_operator_leader")).toBe(1);
    expect(metricValue(after, "trailkeeper_operator_status_writes_total", { kind: "LogForwardingDestination" })).toBeGreaterThanOrEqual(1);
  });

  it("releases the Lease on SIGTERM so the standby takes over without waiting for it to expire", async () => {
    const b = processes.find((p) => p.child.exitCode === null && p.child.signalCode === null)!;
    const c = await operatorProcess("operator-c");
    await vi.waitFor(async () => expect(metricValue(await c.metrics(), "trailkeeper_operator_relists_total", { resource: "namespaces" })).toBeGreaterThan(0));
    expect(await leaseHolder()).toBe("operator-b");

    expect(await b.stop("SIGTERM")).toBe(0);
    expect(b.log()).toContain("released leader lease");
    // From b's exit (the release came before it), c needs at most two jittered polls, not a lease expiry.
    const exitedAt = Date.now();
    await vi.waitFor(async () => expect(await leaseHolder()).toBe("operator-c"), { timeout: 10_000, interval: 100 });
    expect(Date.now() - exitedAt).toBeLessThan(leaseSeconds * 1000);

    await putSecret(kube, namespace, "siem", { "signing-secret": secret });
    await vi.waitFor(async () => expect(await readyReason()).toBe("Succeeded"), { timeout: 10_000 });
    expect(await c.stop("SIGTERM")).toBe(0);
  });
});
