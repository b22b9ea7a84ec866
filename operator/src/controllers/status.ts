import { reasonsNeedingUserAction, type CheckResult } from "@trailkeeper/core/checks/check-result.ts";
import type { Condition } from "@trailkeeper/core/crd/common.ts";
import { withJitter, type Random } from "../runtime/backoff.ts";
import { findCondition, nextCondition, rfc3339, sameOwnedStatus, type OwnedStatus } from "./conditions.ts";

/** Reasons found before any connectivity check, each fixable only by changing something in the cluster. */
export type BlockedReason = "SecretNotFound" | "SecretKeyNotFound" | "InvalidTenantLabel" | "InvalidNamespace" | "NamespaceNotFound";

/** What the reconciler found out this time; everything the status depends on besides spec, clock and history. */
export type Observation =
  | { kind: "invalidSpec"; message: string }
  | { kind: "disabled" }
  | { kind: "blocked"; reason: BlockedReason; message: string }
  /** A check for a new generation is about to run (written first when the check may take a while). */
  | { kind: "checking" }
  /** The result of the latest check (fresh or remembered) and when the next one is due. */
  | { kind: "checked"; result: CheckResult; at: number; nextCheckAt: number };

/** Kind-specific owned fields shown by kubectl get, e.g. LogForwardingDestination's `type` and `format`. */
export interface ShownFields {
  type?: string | undefined;
  format?: string | undefined;
}

export interface StatusInput extends ShownFields {
  generation: number;
  previous: Partial<OwnedStatus>;
  observation: Observation;
  now: number;
}

export interface EventDraft {
  type: "Normal" | "Warning";
  reason: string;
  note: string;
}

export interface StatusDecision {
  status: OwnedStatus;
  /** False when the stored status already says this: then nothing is written. */
  changed: boolean;
  /** When to reconcile again; undefined waits for a change to the object, its Secrets or its Namespace. */
  requeueAfterMs: number | undefined;
  /** Kubernetes Events to emit: only when Ready's status or reason changes. */
  events: EventDraft[];
}


interface Desired {
  ready: { status: Condition["status"]; reason: string; message: string } | "keep";
  stalled?: { reason: string; message: string };
  reconciling?: { reason: string; message: string };
}

function desiredConditions(observation: Observation, generation: number): Desired {
  switch (observation.kind) {
    case "invalidSpec":
      return { ready: { status: "False", reason: "InvalidSpec", message: observation.message }, stalled: { reason: "InvalidSpec", message: observation.message } };
    case "disabled":
      return { ready: { status: "False", reason: "Disabled", message: "spec.enabled is false: not tested and not forwarding" } };
    case "blocked":
      return { ready: { status: "False", reason: observation.reason, message: observation.message }, stalled: { reason: observation.reason, message: observation.message } };
    case "checking":
      return { ready: "keep", reconciling: { reason: "Checking", message: `testing connectivity for generation ${generation}` } };
    case "checked": {
      const { result } = observation;
      const ready = { status: result.success ? ("True" as const) : ("False" as const), reason: result.reason, message: result.message };
      // Failures a person must fix (docs/crds.md); kstatus reads Stalled=True as Failed. Checks still repeat, since
      // a fix may happen outside the cluster (a token re-enabled in the SIEM).
      return reasonsNeedingUserAction.has(result.reason) ? { ready, stalled: { reason: result.reason, message: result.message } } : { ready };
    }
  }
}

/** The owned status for (spec generation, observation, clock, previous status): a pure function, tested alone. */
export function decideStatus(input: StatusInput): StatusDecision {
  const { generation, previous, observation, now } = input;
  const before = previous.conditions ?? [];
  const desired = desiredConditions(observation, generation);
  const conditions: Condition[] = [];
  const previousReady = findCondition(before, "Ready");
  if (desired.ready !== "keep") {
    conditions.push(nextCondition(before, "Ready", desired.ready.status, desired.ready.reason, desired.ready.message, generation, now));
  } else {
    conditions.push(previousReady ?? nextCondition(before, "Ready", "Unknown", "Checking", "the first connectivity check is running", generation, now));
  }
  if (desired.reconciling !== undefined) conditions.push(nextCondition(before, "Reconciling", "True", desired.reconciling.reason, desired.reconciling.message, generation, now));
  if (desired.stalled !== undefined) conditions.push(nextCondition(before, "Stalled", "True", desired.stalled.reason, desired.stalled.message, generation, now));
  // Delivering belongs to the forwarder (forwarding/supervisor.ts): kept while it may run, dropped once it cannot.
  const delivering = findCondition(before, "Delivering");
  if (delivering !== undefined && (observation.kind === "checked" || observation.kind === "checking")) conditions.push(delivering);

  const status: OwnedStatus = { observedGeneration: generation, conditions };
  if (input.type !== undefined) status.type = input.type;
  if (input.format !== undefined) status.format = input.format;
  const lastCheck = observation.kind === "checked" ? lastCheckOf(observation.result, observation.at) : previous.lastCheck;
  if (lastCheck !== undefined) status.lastCheck = lastCheck;

  const requeueAfterMs = observation.kind === "checked" ? Math.max(0, observation.nextCheckAt - now) : undefined;
  return { status, changed: !sameOwnedStatus(previous, status), requeueAfterMs, events: transitionEvents(previousReady, conditions[0]!) };
}

function lastCheckOf(result: CheckResult, at: number): NonNullable<OwnedStatus["lastCheck"]> {
  return { time: rfc3339(at), success: result.success, reason: result.reason, latencyMs: result.latencyMs, message: result.message.slice(0, 1024) };
}

function transitionEvents(previous: Condition | undefined, ready: Condition): EventDraft[] {
  if (ready.status === "Unknown") return [];
  if (previous !== undefined && previous.status === ready.status && previous.reason === ready.reason) return [];
  const type = ready.status === "True" || ready.reason === "Disabled" ? "Normal" : "Warning";
  return [{ type, reason: ready.reason, note: ready.message }];
}

/** Failed checks are retried sooner than the interval: from 30 s, growing with how long Ready has been False. */
export const minRetryMs = 30_000;

/**
 * When the check after one that finished at `at` is due: the check interval after a success; after a failure,
 * the time Ready has already been False (so retries double) bounded by [30 s, interval]. Jitter spreads the
 * checks of many resources created together.
 */
export function nextCheckAt(result: CheckResult, at: number, previous: Partial<OwnedStatus>, intervalMs: number, random: Random = Math.random): number {
  if (result.success) return at + withJitter(intervalMs, 0.1, random);
  const ready = findCondition(previous.conditions, "Ready");
  const failingSince = ready?.status === "False" ? Date.parse(ready.lastTransitionTime) : at;
  const delay = Math.min(intervalMs, Math.max(minRetryMs, at - failingSince));
  return at + withJitter(delay, 0.1, random);
}
