import type { ApiServerEnv } from "../config.ts";
import { Problem } from "../problem.ts";

/**
 * Exports and stored-chain verifications ("streaming reads") each hold a pool connection for as long as they run,
 * which is as long as their client takes. These limits keep them from taking the connections ingest needs.
 */
export interface StreamingReadLimits {
  /** Streaming reads one tenant may run at once; more are refused with 429. */
  perTenant: number;
  /** Pool connections all streaming reads together may hold: the pool less the share reserved for ingest. */
  connections: number;
  /** How long a streaming read waits for one of those connections before it is refused with 503. */
  queueTimeoutMs: number;
  /** An export whose client accepted no bytes for this long is cut. */
  stallTimeoutMs: number;
  /** `statement_timeout` of a streaming read's own connection, instead of the pool's default (0: none). */
  statementTimeoutMs: number;
}

/** Reserved for ingest when unset: a quarter of the pool, at least one connection, leaving exports at least one. */
export function streamingReadLimits(c: ApiServerEnv): StreamingReadLimits {
  const pool = c.TRAILKEEPER_DB_POOL_SIZE;
  const reserved = c.TRAILKEEPER_DB_RESERVED_FOR_INGEST ?? Math.min(pool - 1, Math.max(1, Math.ceil(pool / 4)));
  return {
    perTenant: c.TRAILKEEPER_EXPORTS_PER_TENANT,
    connections: pool - reserved,
    queueTimeoutMs: c.TRAILKEEPER_EXPORT_QUEUE_TIMEOUT_MS,
    stallTimeoutMs: c.TRAILKEEPER_EXPORT_STALL_TIMEOUT_MS,
    statementTimeoutMs: c.TRAILKEEPER_EXPORT_STATEMENT_TIMEOUT_MS,
  };
}

/** Seconds a refused client is told to wait: about what a small export takes. */
export const streamingReadRetryAfterSeconds = 5;

/** Admission of streaming reads: a count per tenant, and connection slots handed out in arrival order. */
export class StreamingReads {
  readonly limits: StreamingReadLimits;
  readonly #perTenant = new Map<string, number>();
  readonly #waiting: (() => void)[] = [];
  #held = 0;
  /** Who waits for no read to be admitted (idle()). */
  #idle: (() => void)[] = [];
  /** Set when a shutdown cut the connections still open (its timeout ran out): a read that loses its client now was cut by the server. */
  cutByShutdown = false;

  constructor(limits: StreamingReadLimits) {
    this.limits = limits;
  }

  /** Connection slots held now (for metrics and tests). */
  get held(): number {
    return this.#held;
  }

  /** Admits one streaming read of `tenant`, or throws a 429/503 problem; call the returned function once done. */
  async admit(tenant: string): Promise<() => void> {
    const running = this.#perTenant.get(tenant) ?? 0;
    if (running >= this.limits.perTenant) {
      throw new Problem(429, "too_many_exports", `this tenant already runs ${running} exports or verifications, the most it may run at once; retry when one has finished`, undefined, { retryAfterSeconds: streamingReadRetryAfterSeconds });
    }
    this.#perTenant.set(tenant, running + 1);
    try {
      await this.#slot();
    } catch (err) {
      this.#leave(tenant);
      throw err;
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#held -= 1;
      this.#leave(tenant);
      this.#grantWaiting();
    };
  }

  #slot(): Promise<void> {
    if (this.#held < this.limits.connections && this.#waiting.length === 0) {
      this.#held += 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        this.#held += 1;
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiting.splice(this.#waiting.indexOf(grant), 1);
        reject(new Problem(503, "exports_busy", "every database connection that exports and verifications may use is taken; retry later", undefined, { retryAfterSeconds: streamingReadRetryAfterSeconds }));
      }, this.limits.queueTimeoutMs);
      this.#waiting.push(grant);
    });
  }

  #grantWaiting(): void {
    while (this.#held < this.limits.connections && this.#waiting.length > 0) this.#waiting.shift()!();
  }

  /**
   * Resolves once no streaming read is admitted: every export has stored its closing record and let go of its
   * connection (a shutdown waits for this before it ends the pool).
   */
  idle(): Promise<void> {
    // Every admitted read, queued or running, counts in its tenant's entry until it is done.
    if (this.#perTenant.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #leave(tenant: string): void {
    const n = (this.#perTenant.get(tenant) ?? 1) - 1;
    if (n > 0) this.#perTenant.set(tenant, n);
    else this.#perTenant.delete(tenant);
    if (this.#perTenant.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }
}
