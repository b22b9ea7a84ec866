import type { CheckOutcome, CheckResult } from "./check-result.ts";
import { outcomeOfError, runCheck } from "./run-check.ts";

/** What one tested kind implements (a destination kind, the S3 probe): a check bounded by `signal`, and a close. */
export interface CheckDriver {
  /** Tests connectivity and credentials, writing as little as the protocol allows (see docs/crds.md). */
  check(signal: AbortSignal): Promise<CheckOutcome>;
  /** Releases sockets and agents; the driver is not used afterwards. */
  close(): Promise<void>;
}

export interface CheckContext {
  /** Aborts the check from outside (shutdown, lost leadership); the timeout comes from the spec. */
  signal?: AbortSignal | undefined;
}

/** A connectivity tester as the operator uses it, for every tested kind (LogForwardingDestination, RecordingStorage). */
export interface Tester {
  check(ctx?: CheckContext): Promise<CheckResult>;
  close(): Promise<void>;
}

/**
 * Builds a driver and wraps it in the one timeout, latency and error classification of runCheck. A driver that
 * cannot be built (a missing Secret, an unreadable key, a refused address) yields a tester whose check reports
 * why, so the caller has one path for every failure.
 */
export function checkedTester(build: () => CheckDriver, timeoutMs: number): Tester {
  let driver: CheckDriver;
  try {
    driver = build();
  } catch (err) {
    return brokenTester(outcomeOfError(err, false, timeoutMs));
  }
  return {
    check: (ctx = {}) => runCheck((signal) => driver.check(signal), { timeoutMs, signal: ctx.signal }),
    close: () => driver.close(),
  };
}

function brokenTester(outcome: CheckOutcome): Tester {
  return {
    check: async () => ({ ...outcome, latencyMs: 0 }),
    close: async () => {},
  };
}
