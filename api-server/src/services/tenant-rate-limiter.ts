/** Tokens are counted in 1/60000ths so that refilling (perMinute per 60 000 ms) stays in whole numbers. */
const scale = 60_000;

/**
 * A token bucket per tenant, in this process's memory: each replica allows `perMinute` with bursts of `burst`,
 * enough to keep a loop of tests from turning the API server into a scanner aimed at other hosts.
 */
export class TenantRateLimiter {
  readonly #perMinute: number;
  readonly #capacity: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(options: { perMinute: number; burst: number; now?: () => number }) {
    this.#perMinute = options.perMinute;
    this.#capacity = options.burst * scale;
    this.#now = options.now ?? Date.now;
  }

  /** Takes one token: 0 when allowed, else the whole seconds until the next token (for Retry-After). */
  take(tenant: string): number {
    const now = this.#now();
    const tokens = this.#tokens(tenant, now);
    if (tokens >= scale) {
      this.#buckets.set(tenant, { tokens: tokens - scale, at: now });
      this.#forgetFull(now);
      return 0;
    }
    this.#buckets.set(tenant, { tokens, at: now });
    return Math.max(1, Math.ceil((scale - tokens) / this.#perMinute / 1000));
  }

  #tokens(tenant: string, now: number): number {
    const b = this.#buckets.get(tenant);
    return b === undefined ? this.#capacity : Math.min(this.#capacity, b.tokens + Math.max(0, now - b.at) * this.#perMinute);
  }

  /** Buckets that have refilled completely carry no state; dropping them bounds the map by the active tenants. */
  #forgetFull(now: number): void {
    if (this.#buckets.size < 1000) return;
    for (const tenant of this.#buckets.keys()) {
      if (this.#tokens(tenant, now) >= this.#capacity) this.#buckets.delete(tenant);
    }
  }
}
