/**
 * Outcome of a connectivity check, shared by every destination kind and the recording storage tester. `reason`
 * becomes the Ready condition's reason, so it is CamelCase and stable; `message` is for people and never holds
 * secret values.
 */
export const checkReasons = [
  "Succeeded",
  /** Reached the peer, but delivery cannot be confirmed by the protocol (UDP syslog). */
  "Unverifiable",
  "InvalidCredentials",
  "PermissionDenied",
  "NotFound",
  "Unreachable",
  "TLSError",
  "Timeout",
  "InvalidConfig",
  "SecretNotFound",
  "AddressNotAllowed",
  "RateLimited",
  "ServerError",
  "Rejected",
  "UnexpectedResponse",
  "DataMismatch",
  "Cancelled",
  "UnexpectedError",
] as const;
export type CheckReason = (typeof checkReasons)[number];
export type FailureReason = Exclude<CheckReason, "Succeeded" | "Unverifiable">;

/**
 * Failures only a person can fix (the spec, a Secret, a grant on the remote side); suggested for `Stalled=True`,
 * which kstatus reports as Failed. The others may heal by themselves and stay `Ready=False` only.
 */
export const reasonsNeedingUserAction: ReadonlySet<CheckReason> = new Set<CheckReason>([
  "InvalidCredentials",
  "PermissionDenied",
  "NotFound",
  "TLSError",
  "InvalidConfig",
  "SecretNotFound",
  "AddressNotAllowed",
  "DataMismatch",
]);

export interface CheckOutcome {
  success: boolean;
  reason: CheckReason;
  message: string;
}

export interface CheckResult extends CheckOutcome {
  latencyMs: number;
}

export function succeeded(message: string, reason: "Succeeded" | "Unverifiable" = "Succeeded"): CheckOutcome {
  return { success: true, reason, message };
}

export function failed(reason: FailureReason, message: string): CheckOutcome {
  return { success: false, reason, message };
}

/** Thrown inside a check to end it with a specific outcome from deep in a helper. */
export class CheckFailure extends Error {
  readonly reason: FailureReason;
  constructor(reason: FailureReason, message: string) {
    super(message);
    this.name = "CheckFailure";
    this.reason = reason;
  }
}

/** Longest message stored in status.lastCheck.message (the CRD allows 1024). */
export const maxCheckMessageLength = 1000;

export function clampMessage(message: string): string {
  return message.length <= maxCheckMessageLength ? message : `${message.slice(0, maxCheckMessageLength - 1)}…`;
}
