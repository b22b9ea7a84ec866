import { classifyNetworkError } from "../net/net-errors.ts";
import { EgressDeniedError } from "../net/egress.ts";
import { MissingSecretError } from "../secrets.ts";
import { CheckFailure, clampMessage, failed, type CheckOutcome, type CheckResult } from "./check-result.ts";

export interface RunCheckOptions {
  timeoutMs: number;
  /** Cancels the check from outside, e.g. on shutdown or loss of leadership. */
  signal?: AbortSignal | undefined;
  now?: () => number;
}

/**
 * Runs one check under a deadline and turns whatever happens into a CheckResult. This is the one place that
 * measures latency, enforces timeouts and classifies thrown errors, so no destination does it differently.
 */
export async function runCheck(check: (signal: AbortSignal) => Promise<CheckOutcome>, options: RunCheckOptions): Promise<CheckResult> {
  const now = options.now ?? (() => performance.now());
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal === undefined ? deadline : AbortSignal.any([deadline, options.signal]);
  const started = now();
  let outcome: CheckOutcome;
  try {
    // Cancelled before it began (a leadership term that ended while the reconcile waited): nothing is started.
    signal.throwIfAborted();
    outcome = await raceAbort(check(signal), signal);
  } catch (err) {
    outcome = outcomeOfError(err, deadline.aborted, options.timeoutMs);
  }
  return { ...outcome, message: clampMessage(outcome.message), latencyMs: Math.max(0, Math.round(now() - started)) };
}

/** A check that ignores its signal still ends at the deadline. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    // Always observed: a check failing after the abort decided the race is not news, and must not surface as an
    // unhandled rejection (which ended a CI run when an operator stopped mid-reconcile).
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

export function outcomeOfError(err: unknown, timedOut: boolean, timeoutMs: number): CheckOutcome {
  if (err instanceof CheckFailure) return failed(err.reason, err.message);
  if (err instanceof MissingSecretError) return failed("SecretNotFound", err.message);
  const denied = findInChain(err, EgressDeniedError);
  if (denied !== undefined) return failed("AddressNotAllowed", denied.message);
  if (timedOut || (err instanceof Error && err.name === "TimeoutError")) return failed("Timeout", `no answer within ${timeoutMs} ms`);
  if (err instanceof Error && err.name === "AbortError") return failed("Cancelled", "the check was cancelled");
  const network = classifyNetworkError(err);
  if (network !== undefined) return failed(network.reason, network.message);
  return failed("UnexpectedError", err instanceof Error ? `${err.name}: ${err.message}` : String(err));
}

/** undici reports errors from our lookup hook wrapped in its own; look through `cause`. */
function findInChain<T extends Error>(err: unknown, type: new (...args: never[]) => T): T | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    if (current instanceof type) return current;
    current = current.cause;
  }
  return undefined;
}
