import type { FailureReason } from "../../checks/check-result.ts";

/**
 * HEC reply codes (protocols.md §1, from Splunk's "possible error codes" table). Only the meaning for a
 * connectivity check is here; the forwarder classifies the same codes for retry.
 */
export interface HecReply {
  text?: string;
  code?: number;
  "invalid-event-number"?: number;
  ackId?: number;
}

export const hecNoData = 5;
export const hecHealthy = 17;

const tokenProblems: Record<number, string> = {
  1: "the HEC token is disabled",
  2: "no HEC token was sent",
  3: "the Authorization header was not accepted (expected `Splunk <token>`)",
  4: "the HEC token is invalid",
  21: "the HEC token is invalid",
  22: "the HEC token is disabled",
};

/** What a non-success HEC code means for the token check, or undefined for codes with no special meaning. */
export function hecCodeFailure(code: number): { reason: FailureReason; message: string } | undefined {
  const token = tokenProblems[code];
  if (token !== undefined) return { reason: "InvalidCredentials", message: token };
  if (code === 10 || code === 11) return { reason: "InvalidConfig", message: "HEC rejected the request channel (is indexer acknowledgement configured consistently?)" };
  if (code === 16) return { reason: "InvalidConfig", message: "query-string authorization is not enabled on this token" };
  if (code === 8 || code === 9 || (code >= 18 && code <= 20)) return { reason: "ServerError", message: "HEC is unhealthy or busy" };
  return undefined;
}
