import { describe, expect, it } from "vitest";
import type { CheckResult } from "@trailkeeper/core/checks/check-result.ts";
import type { OwnedStatus } from "./conditions.ts";
import { decideStatus, nextCheckAt, type Observation } from "./status.ts";

const t0 = Date.parse("2025-06-01T12:00:00Z");
const minute = 60_000;
const ok: CheckResult = { success: true, reason: "Succeeded", message: "receiver accepted a signed test event (HTTP 204)", latencyMs: 12 };
const refused: CheckResult = { success: false, reason: "Unreachable", message: "connection refused", latencyMs: 3 };
const badToken: CheckResult = { success: false, reason: "InvalidCredentials", message: "HTTP 401", latencyMs: 5 };
const checked = (result: CheckResult, at = t0): Observation => ({ kind: "checked", result, at, nextCheckAt: at + 5 * minute });

function decide(observation: Observation, previous: Partial<OwnedStatus> = {}, now = t0, generation = 1) {
  return decideStatus({ generation, previous, observation, now });
}

describe("decideStatus", () => {
  it("reports a passing check as Ready=True with lastCheck and observedGeneration, and asks to come back at the next check", () => {
    const d = decide(checked(ok), {}, t0, 3);
    expect(d.status).toEqual({
      observedGeneration: 3,
      conditions: [{ type: "Ready", status: "True", observedGeneration: 3, lastTransitionTime: "2025-06-01T12:00:00Z", reason: "Succeeded", message: ok.message }],
      lastCheck: { time: "2025-06-01T12:00:00Z", success: true, reason: "Succeeded", latencyMs: 12, message: ok.message },
    });
    expect(d.changed).toBe(true);
    expect(d.requeueAfterMs).toBe(5 * minute);
    expect(d.events).toEqual([{ type: "Normal", reason: "Succeeded", note: ok.message }]);
  });

  it("changes nothing, writes nothing and emits nothing when recomputed from the same observation later", () => {
    const first = decide(checked(ok));
    const again = decide(checked(ok), first.status, t0 + 2 * minute);
    expect(again.changed).toBe(false);
    expect(again.events).toEqual([]);
    expect(again.requeueAfterMs).toBe(3 * minute);
  });

  it("moves lastTransitionTime only when Ready flips, not when the reason or message changes", () => {
    const failing = decide(checked(refused), {}, t0).status;
    const otherFailure = decide(checked(badToken, t0 + minute), failing, t0 + minute);
    expect(otherFailure.status.conditions[0]).toMatchObject({ status: "False", reason: "InvalidCredentials", lastTransitionTime: "2025-06-01T12:00:00Z" });
    expect(otherFailure.events).toEqual([{ type: "Warning", reason: "InvalidCredentials", note: "HTTP 401" }]);
    const recovered = decide(checked(ok, t0 + 2 * minute), otherFailure.status, t0 + 2 * minute);
    expect(recovered.status.conditions[0]).toMatchObject({ status: "True", lastTransitionTime: "2025-06-01T12:02:00Z" });
  });

  it("keeps periodic checks with the same outcome silent but records them in lastCheck", () => {
    const first = decide(checked(refused)).status;
    const later = decide(checked({ ...refused, latencyMs: 4 }, t0 + minute), first, t0 + minute);
    expect(later.changed).toBe(true);
    expect(later.status.lastCheck).toMatchObject({ time: "2025-06-01T12:01:00Z", latencyMs: 4 });
    expect(later.events).toEqual([]);
  });

  it.each([
    [{ kind: "blocked", reason: "SecretNotFound", message: 'Secret "hook" not found' }, "SecretNotFound"],
    [{ kind: "blocked", reason: "SecretKeyNotFound", message: 'Secret "hook" has no key "token"' }, "SecretKeyNotFound"],
    [{ kind: "blocked", reason: "InvalidTenantLabel", message: "label is not a DNS-1123 label" }, "InvalidTenantLabel"],
    [{ kind: "invalidSpec", message: "spec.webhook.url: must use https://" }, "InvalidSpec"],
  ] as const)("marks %o Ready=False and Stalled=True with reason %s, with no periodic retry", (observation, reason) => {
    const d = decide(observation);
    expect(d.status.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ["Ready", "False", reason],
      ["Stalled", "True", reason],
    ]);
    expect(d.requeueAfterMs).toBeUndefined();
    expect(d.events).toMatchObject([{ type: "Warning", reason }]);
  });

  it.each(["InvalidConfig", "InvalidCredentials", "PermissionDenied", "TLSError"] as const)("marks a %s check result as Stalled but keeps checking", (reason) => {
    const d = decide(checked({ success: false, reason, message: "a person must act", latencyMs: 0 }));
    expect(d.status.conditions.map((c) => [c.type, c.reason])).toEqual([
      ["Ready", reason],
      ["Stalled", reason],
    ]);
    expect(d.requeueAfterMs).toBe(5 * minute);
  });

  it.each(["Unreachable", "Timeout", "ServerError", "RateLimited"] as const)("does not mark a transient %s as Stalled", (reason) => {
    const d = decide(checked({ success: false, reason, message: "may pass on the next check", latencyMs: 0 }));
    expect(d.status.conditions.map((c) => c.type)).toEqual(["Ready"]);
  });

  it("drops Stalled once the problem is fixed", () => {
    const stalled = decide({ kind: "blocked", reason: "SecretNotFound", message: "missing" }).status;
    const fixed = decide(checked(ok, t0 + minute), stalled, t0 + minute);
    expect(fixed.status.conditions.map((c) => c.type)).toEqual(["Ready"]);
  });

  it("reports a disabled resource as Ready=False reason Disabled, untested, not stalled, keeping the last check", () => {
    const tested = decide(checked(ok)).status;
    const d = decide({ kind: "disabled" }, tested, t0 + minute, 2);
    expect(d.status.conditions).toEqual([
      { type: "Ready", status: "False", observedGeneration: 2, lastTransitionTime: "2025-06-01T12:01:00Z", reason: "Disabled", message: "spec.enabled is false: not tested and not forwarding" },
    ]);
    expect(d.status.lastCheck).toEqual(tested.lastCheck);
    expect(d.requeueAfterMs).toBeUndefined();
    expect(d.events).toEqual([{ type: "Normal", reason: "Disabled", note: "spec.enabled is false: not tested and not forwarding" }]);
  });

  it("acknowledges a new generation with Reconciling=True while keeping the previous Ready as it was", () => {
    const tested = decide(checked(ok), {}, t0, 1).status;
    const d = decide({ kind: "checking" }, tested, t0 + minute, 2);
    expect(d.status.observedGeneration).toBe(2);
    expect(d.status.conditions[0]).toEqual(tested.conditions[0]); // still describes generation 1
    expect(d.status.conditions[1]).toMatchObject({ type: "Reconciling", status: "True", reason: "Checking", observedGeneration: 2 });
    expect(d.events).toEqual([]);
    const done = decide(checked(ok, t0 + minute), d.status, t0 + minute, 2);
    expect(done.status.conditions.map((c) => c.type)).toEqual(["Ready"]);
  });

  it("starts a new resource with Ready=Unknown while its first check runs", () => {
    const d = decide({ kind: "checking" });
    expect(d.status.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ["Ready", "Unknown", "Checking"],
      ["Reconciling", "True", "Checking"],
    ]);
    expect(d.events).toEqual([]);
  });

  it("carries the destination type and ignores fields it does not own", () => {
    const d = decideStatus({ generation: 1, previous: {}, observation: checked(ok), now: t0, type: "webhook" });
    expect(d.status.type).toBe("webhook");
    const same = decideStatus({ generation: 1, previous: { ...d.status, delivery: { delivered: 5 } } as Partial<OwnedStatus>, observation: checked(ok), now: t0, type: "webhook" });
    expect(same.changed).toBe(false);
  });
});

describe("decideStatus and the forwarder's Delivering condition", () => {
  const delivering = { type: "Delivering" as const, status: "False" as const, observedGeneration: 1, lastTransitionTime: "2025-06-01T11:00:00Z", reason: "EventsRejected", message: "rejected" };

  it("keeps Delivering, written by the forwarder, while the destination is checked", () => {
    const tested = decide(checked(ok)).status;
    const d = decide(checked(ok), { ...tested, conditions: [...tested.conditions, delivering] }, t0 + minute);
    expect(d.status.conditions).toContainEqual(delivering);
    expect(d.changed).toBe(false);
  });

  it("drops Delivering once the destination cannot forward (disabled)", () => {
    const tested = decide(checked(ok)).status;
    const d = decide({ kind: "disabled" }, { ...tested, conditions: [...tested.conditions, delivering] }, t0 + minute);
    expect(d.status.conditions.map((c) => c.type)).toEqual(["Ready"]);
  });
});

describe("decideStatus and the shown fields", () => {
  it("writes type and format, and a changed format alone is a change to write", () => {
    const first = decideStatus({ generation: 1, previous: {}, observation: checked(ok), now: t0, type: "syslog", format: "cef" });
    expect(first.status).toMatchObject({ type: "syslog", format: "cef" });
    const same = decideStatus({ generation: 1, previous: first.status, observation: checked(ok), now: t0, type: "syslog", format: "cef" });
    expect(same.changed).toBe(false);
    const switched = decideStatus({ generation: 1, previous: first.status, observation: checked(ok), now: t0, type: "syslog", format: "leef" });
    expect(switched.changed).toBe(true);
    expect(switched.status.format).toBe("leef");
  });
});

describe("nextCheckAt", () => {
  const noJitter = () => 0;
  it("waits the check interval after a success", () => {
    expect(nextCheckAt(ok, t0, {}, 5 * minute, noJitter)).toBe(t0 + 5 * minute);
    expect(nextCheckAt(ok, t0, {}, 5 * minute, () => 0.5)).toBe(t0 + 5.25 * minute);
  });

  it("retries a first failure after 30 s and doubles with the time Ready has been False, up to the interval", () => {
    expect(nextCheckAt(refused, t0, {}, 5 * minute, noJitter)).toBe(t0 + 30_000);
    const failingSince = decide(checked(refused), {}, t0).status;
    expect(nextCheckAt(refused, t0 + 2 * minute, failingSince, 5 * minute, noJitter)).toBe(t0 + 4 * minute);
    expect(nextCheckAt(refused, t0 + 60 * minute, failingSince, 5 * minute, noJitter)).toBe(t0 + 65 * minute);
  });
});
