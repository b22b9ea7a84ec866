import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../protocol-servers/webhook-receiver.ts";
import { call, sampleEvent, startTestApi, tenantWithKey } from "../../support/api.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { createResource, createTestNamespace, deleteTestNamespace, getResource, patchSpec, putSecret, testKube } from "../../support/kube-client.ts";
import { metricValue, spawnOperator, testOperatorEnv, type OperatorProcess } from "../../support/kube-operator.ts";

const kube = testKube(inject("kubeconfigPath"));
const secret = `whsec_${randomBytes(32).toString("base64")}`;
let namespace: string;
let db: TestDatabase;
let api: RunningApiServer;
let key: string;
let receiver: WebhookReceiver;
const processes: OperatorProcess[] = [];

beforeAll(async () => {
  namespace = await createTestNamespace(kube, "op-fwd");
  db = await freshDatabase();
  api = await startTestApi(db);
  // The namespace has no tenant label, so its name is the tenant.
  key = await tenantWithKey(api.url, namespace, ["events:write"]);
  receiver = await startWebhookReceiver({ secret });
  await putSecret(kube, namespace, "siem", { "signing-secret": secret });
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop("SIGKILL")));
  await receiver?.close();
  await api?.close();
  await db?.drop();
  if (namespace) await deleteTestNamespace(kube, namespace);
});

async function operator(name: string): Promise<OperatorProcess> {
  const p = await spawnOperator(testOperatorEnv(kube.kubeconfigPath, namespace, { POD_NAME: name, DATABASE_URL: db.url, DELIVERY_STATUS_INTERVAL_SECONDS: "1" }));
  processes.push(p);
  return p;
}

interface Batch { type: string; events: { seq: number }[] }
/** Batches the receiver got (connectivity checks send a test message of another type). */
const batches = () => receiver.received.map((r) => r.payload as Batch).filter((p) => p.type === "trailkeeper.audit.batch");
const receivedSeqs = () => batches().flatMap((b) => b.events.map((e) => e.seq));
const append = async (n: number) => {
  const res = await call(api.url, "POST", "/v1/events", { token: key, body: { events: Array.from({ length: n }, () => sampleEvent()) } });
  expect(res.status).toBe(201);
  return (res.body.events as { seq: number }[]).map((e) => e.seq);
};
const cursorRow = async () => (await db.pool.query("SELECT cursor_seq FROM delivery_cursors")).rows[0] as { cursor_seq: number } | undefined;

describe("forwarding through the operator", () => {
  it("delivers appended events in seq order, reports status.delivery, and survives leader failover without loss", async () => {
    const a = await operator("operator-a");
    await createResource(kube, "logforwardingdestinations", namespace, "siem", {
      webhook: { url: `${receiver.url}/ingest`, allowInsecureHttp: true, signingSecretRef: { name: "siem", key: "signing-secret" } },
      delivery: { batchSize: 20 },
    });
    // The forwarder starts at the head when it first runs; wait for it before appending.
    await vi.waitFor(async () => expect(await cursorRow()).toBeDefined(), { timeout: 20_000 });
    const first = await append(50);
    await vi.waitFor(() => expect(receivedSeqs()).toEqual(first), { timeout: 10_000 });
    // Every event carries what a receiver needs to check completeness.
    const sample = batches()[0]!.events[0]! as unknown as Record<string, unknown>;
    expect(Object.keys(sample)).toEqual(expect.arrayContaining(["tenant", "seq", "hash", "prevHash"]));
    expect(sample.tenant).toBe(namespace);

    await vi.waitFor(async () => {
      const status = (await getResource(kube, "logforwardingdestinations", namespace, "siem")).status as { delivery?: { delivered?: number; cursorSeq?: number } };
      expect(status.delivery?.delivered).toBe(50);
      expect(status.delivery?.cursorSeq).toBe(first.at(-1));
    }, { timeout: 10_000 });
    expect(metricValue(await a.metrics(), "trailkeeper_forward_delivered_events_total", { destination: `${namespace}/siem` })).toBe(50);

    const b = await operator("operator-b");
    // Kill the leader while events keep arriving: the standby takes over and resumes from the durable cursor.
    const appending = (async () => {
      const seqs: number[] = [];
      for (let i = 0; i < 20; i++) {
        seqs.push(...(await append(10)));
        await new Promise((r) => setTimeout(r, 100));
      }
      return seqs;
    })();
    await new Promise((r) => setTimeout(r, 500));
    await a.stop("SIGKILL");
    const later = await appending;
    await vi.waitFor(() => expect(new Set(receivedSeqs())).toEqual(new Set([...first, ...later])), { timeout: 30_000 });
    const seqs = receivedSeqs();
    // At least once: nothing lost; a repeat can only be the batch in flight when the leader died (≤ batchSize).
    expect(seqs.length - new Set(seqs).size).toBeLessThanOrEqual(20);
    // Forwarding no longer waits for leadership (each replica forwards its share), so b may deliver before it leads.
    await vi.waitFor(async () => expect(metricValue(await b.metrics(), "trailkeeper_operator_leader")).toBe(1), { timeout: 10_000 });
  });

  it("replays from the seq named by the annotation, and stops forwarding when disabled", async () => {
    const before = receivedSeqs().length;
    const head = Math.max(...receivedSeqs());
    await kube.custom.patchNamespacedCustomObject(
      { group: "trailkeeper.dev", version: "v1alpha1", plural: "logforwardingdestinations", namespace, name: "siem", body: { metadata: { annotations: { "trailkeeper.dev/replay-from": "seq:40" } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await vi.waitFor(() => expect(receivedSeqs().slice(before)).toEqual(Array.from({ length: head - 39 }, (_, i) => 40 + i)), { timeout: 15_000 });
    const replayed = receivedSeqs().length;
    // The same annotation value is applied once, not again on the next restart of the forwarder.
    await append(3);
    await vi.waitFor(() => expect(receivedSeqs().length).toBe(replayed + 3), { timeout: 10_000 });

    await patchSpec(kube, "logforwardingdestinations", namespace, "siem", { enabled: false });
    await vi.waitFor(async () => {
      const r = await getResource(kube, "logforwardingdestinations", namespace, "siem");
      expect(r.status?.conditions?.find((c: { type: string }) => c.type === "Ready")?.reason).toBe("Disabled");
    }, { timeout: 10_000 });
    const stopped = receivedSeqs().length;
    await append(5);
    await new Promise((r) => setTimeout(r, 2000));
    expect(receivedSeqs().length).toBe(stopped);
    // Enabled again: it resumes from its cursor, so the events appended meanwhile arrive.
    await patchSpec(kube, "logforwardingdestinations", namespace, "siem", { enabled: true });
    await vi.waitFor(() => expect(receivedSeqs().length).toBe(stopped + 5), { timeout: 15_000 });
  });
});
