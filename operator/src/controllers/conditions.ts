import type { Condition, ConditionType, LastCheck } from "@trailkeeper/core/crd/common.ts";

/** The part of `status` this controller owns; `status.delivery` belongs to the forwarder and is never touched. */
export interface OwnedStatus {
  observedGeneration: number;
  /** LogForwardingDestination only: the destination block in use. */
  type?: string;
  /** LogForwardingDestination only: the event format in use (spec.format or the kind's default). */
  format?: string;
  conditions: Condition[];
  lastCheck?: LastCheck;
}

/** metav1.Time: RFC 3339 in whole seconds. */
export function rfc3339(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * A condition for this generation. Its lastTransitionTime is kept from the previous condition of the same type
 * while `status` is unchanged: it records when the condition flipped, not when it was last computed.
 */
export function nextCondition(
  previous: readonly Condition[],
  type: ConditionType,
  status: Condition["status"],
  reason: string,
  message: string,
  generation: number,
  now: number,
): Condition {
  const old = previous.find((c) => c.type === type);
  const lastTransitionTime = old !== undefined && old.status === status ? old.lastTransitionTime : rfc3339(now);
  return { type, status, observedGeneration: generation, lastTransitionTime, reason, message: message.slice(0, 32768) };
}

export function findCondition(conditions: readonly Condition[] | undefined, type: ConditionType): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isCondition(value: unknown): value is Condition {
  return isRecord(value) && typeof value.type === "string" && typeof value.status === "string" && typeof value.lastTransitionTime === "string";
}

/** The owned fields of a status as stored, tolerating anything a person may have written into it. */
export function readOwnedStatus(raw: unknown): Partial<OwnedStatus> {
  if (!isRecord(raw)) return {};
  const out: Partial<OwnedStatus> = {};
  if (typeof raw.observedGeneration === "number") out.observedGeneration = raw.observedGeneration;
  if (typeof raw.type === "string") out.type = raw.type;
  if (typeof raw.format === "string") out.format = raw.format;
  if (Array.isArray(raw.conditions)) out.conditions = raw.conditions.filter(isCondition);
  if (isRecord(raw.lastCheck) && typeof raw.lastCheck.time === "string" && typeof raw.lastCheck.success === "boolean") out.lastCheck = raw.lastCheck as LastCheck;
  return out;
}

/** JSON with sorted keys and no undefined, so equal statuses compare equal whatever order the server returns. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isRecord(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

export function sameOwnedStatus(a: Partial<OwnedStatus>, b: Partial<OwnedStatus>): boolean {
  const owned = (s: Partial<OwnedStatus>) => ({ observedGeneration: s.observedGeneration, type: s.type, format: s.format, conditions: s.conditions ?? [], lastCheck: s.lastCheck });
  return canonical(owned(a)) === canonical(owned(b));
}
