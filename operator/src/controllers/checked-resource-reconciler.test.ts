import { describe, expect, it } from "vitest";
import type { CheckResult } from "@trailkeeper/core/checks/check-result.ts";
import { defaultEgressPolicy } from "@trailkeeper/core/net/egress.ts";
import { silentLogger } from "@trailkeeper/core/log.ts";
import { KubeApiError } from "../kube/errors.ts";
import type { CustomObject, SecretObject } from "../kube/types.ts";
import { createOperatorMetrics } from "../metrics.ts";
import type { CheckedKind } from "./checked-kind.ts";
import { CheckedResourceReconciler, ReconcileCancelled, type Resolved } from "./checked-resource-reconciler.ts";

interface FakeSpec {
  enabled: boolean;
  secret: string;
}

/** An in-memory cluster for one resource: the cache the reconciler reads, and the status writes it makes. */
function fixture() {
  let now = Date.parse("2025-06-01T12:00:00Z");
  let result: CheckResult = { success: true, reason: "Succeeded", message: "ok", latencyMs: 3 };
  let checks = 0;
  let conflictsLeft = 0;
  let version = 10;
  let hangCheck: ((signal: AbortSignal) => Promise<CheckResult>) | undefined;
  const writes: Record<string, unknown>[] = [];
  const published: (Resolved<FakeSpec> | undefined)[] = [];
  const secrets: Record<string, SecretObject> = { token: { metadata: { name: "token", resourceVersion: "1" }, data: { token: Buffer.from("t").toString("base64") } } };
  const object: CustomObject = { metadata: { name: "d", namespace: "ns", uid: "u1", generation: 1, resourceVersion: String(version) }, spec: { enabled: true, secret: "token" } };
  const kind: CheckedKind<FakeSpec> = {
    kind: "LogForwardingDestination",
    resource: "logforwardingdestinations",
    parseSpec: (raw) => ({ ok: true, spec: raw as FakeSpec }),
    secretRefs: (spec) => [{ name: spec.secret, key: "token" }],
    enabled: (spec) => spec.enabled,
    checkIntervalMs: () => 300_000,
    checkType: () => "fake",
    statusType: () => "webhook",
    tester: () => ({
      check: async ({ signal } = {}) => {
        checks++;
        return hangCheck === undefined ? result : hangCheck(signal!);
      },
      close: async () => {},
    }),
  };
  const reconciler = new CheckedResourceReconciler(kind, {
    objects: { get: () => object },
    namespaces: { get: (name) => ({ metadata: { name } }) },
    gateway: {
      readSecret: async (_ns, name) => secrets[name],
      patchStatus: async (_resource, _ns, _name, status, resourceVersion) => {
        if (resourceVersion !== String(version) || conflictsLeft-- > 0) throw new KubeApiError(409, "the object has been modified", "Conflict");
        writes.push(status);
        return String(++version);
      },
    },
    recordEvent: async () => {},
    egress: defaultEgressPolicy,
    metrics: createOperatorMetrics(),
    logger: silentLogger,
    publish: (_key, r) => published.push(r),
    now: () => now,
    random: () => 0,
  });
  /** What the watch would deliver: the stored object after the last write. */
  const syncCache = () => {
    object.status = writes.at(-1);
    object.metadata.resourceVersion = String(version);
  };
  return {
    reconciler, object, secrets, writes, published, syncCache,
    reconcile: (signal = new AbortController().signal) => reconciler.reconcile("ns/d", signal),
    get checks() { return checks; },
    set result(r: CheckResult) { result = r; },
    set conflicts(n: number) { conflictsLeft = n; },
    set hang(f: typeof hangCheck) { hangCheck = f; },
    advance: (ms: number) => void (now += ms),
  };
}

describe("CheckedResourceReconciler", () => {
  it("acknowledges a new generation, checks once, writes Ready and publishes the resolved resource", async () => {
    const f = fixture();
    const outcome = await f.reconcile();
    expect(f.checks).toBe(1);
    expect(f.writes.map((w) => (w.conditions as { type: string }[]).map((c) => c.type))).toEqual([["Ready", "Reconciling"], ["Ready"]]);
    expect(f.writes[1]).toMatchObject({ observedGeneration: 1, type: "webhook", lastCheck: { success: true } });
    expect(outcome.requeueAfterMs).toBe(300_000);
    expect(f.published.at(-1)).toMatchObject({ tenant: "ns", spec: { secret: "token" } });
    expect(f.published.at(-1)!.secrets.get({ name: "token", key: "token" })?.toString()).toBe("t");
  });

  it("neither checks nor writes again until the interval passes or an input changes", async () => {
    const f = fixture();
    await f.reconcile();
    f.syncCache();
    f.advance(60_000);
    const outcome = await f.reconcile();
    expect([f.checks, f.writes.length, outcome.requeueAfterMs]).toEqual([1, 2, 240_000]);

    f.secrets.token = { ...f.secrets.token!, metadata: { name: "token", resourceVersion: "2" } };
    await f.reconcile();
    expect(f.checks).toBe(2);
  });

  it("keeps the check result across a write conflict instead of testing again", async () => {
    const f = fixture();
    f.conflicts = 0;
    await f.reconcile();
    f.syncCache();
    f.advance(300_000);
    f.result = { success: false, reason: "Unreachable", message: "connection refused", latencyMs: 1 };
    f.conflicts = 1;
    await expect(f.reconcile()).rejects.toMatchObject({ status: 409 });
    expect(f.checks).toBe(2);
    await f.reconcile();
    expect(f.checks).toBe(2);
    expect(f.writes.at(-1)).toMatchObject({ conditions: [{ type: "Ready", status: "False", reason: "Unreachable" }] });
  });

  it("withdraws a disabled resource without testing it", async () => {
    const f = fixture();
    f.object.spec = { enabled: false, secret: "token" };
    await f.reconcile();
    expect(f.checks).toBe(0);
    expect(f.published).toEqual([undefined]);
    expect(f.writes[0]).toMatchObject({ conditions: [{ reason: "Disabled" }], lastCheck: null });
  });

  it("writes nothing when leadership ends during a check", async () => {
    const f = fixture();
    f.object.status = { observedGeneration: 1 };
    const term = new AbortController();
    f.hang = (signal) => new Promise((resolve) => signal.addEventListener("abort", () => resolve({ success: false, reason: "Cancelled", message: "cancelled", latencyMs: 0 })));
    const pending = f.reconcile(term.signal);
    await new Promise((r) => setTimeout(r, 10));
    term.abort();
    await expect(pending).rejects.toBeInstanceOf(ReconcileCancelled);
    expect(f.writes).toEqual([]);
  });
});
