/** A source of randomness in [0, 1), injectable so jitter is deterministic in tests. */
export type Random = () => number;

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  /** Fraction of the delay added at random, so many retries started together spread out. */
  jitter: number;
}

/** Delay before retry number `attempt` (1-based): base doubling per attempt, capped, plus up to `jitter` more. */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: Random = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 52);
  const delay = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(delay * (1 + policy.jitter * random()));
}

/** `ms` stretched by up to `fraction` at random; used for periodic requeues and relists. */
export function withJitter(ms: number, fraction: number, random: Random = Math.random): number {
  return Math.round(ms * (1 + fraction * random()));
}

/** A retry counter for one loop (a watch supervisor): `next()` grows the delay, `reset()` after a success. */
export class Backoff {
  readonly #policy: BackoffPolicy;
  readonly #random: Random;
  #attempt = 0;

  constructor(policy: BackoffPolicy, random: Random = Math.random) {
    this.#policy = policy;
    this.#random = random;
  }

  next(): number {
    this.#attempt += 1;
    return backoffDelay(this.#policy, this.#attempt, this.#random);
  }

  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}

/** Resolves after `ms`, or early when `signal` aborts; never rejects, so loops check `signal.aborted` after it. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
