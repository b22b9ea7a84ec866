import { signDueCheckpoints, type CheckpointPolicy } from "@trailkeeper/core/db/checkpoints.ts";
import type { Pool } from "@trailkeeper/core/db/pool.ts";
import type { NoteSigner } from "@trailkeeper/core/integrity/signing-key.ts";
import type { Logger } from "@trailkeeper/core/log.ts";

/** Periodically signs checkpoints for tenants whose heads have moved enough (see signDueCheckpoints). */
export class Checkpointer {
  readonly #pool: Pool;
  readonly #signer: NoteSigner;
  readonly #logName: string;
  readonly #policy: CheckpointPolicy;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();

  constructor(opts: { pool: Pool; signer: NoteSigner; logName: string; policy: CheckpointPolicy; log: Logger }) {
    this.#pool = opts.pool;
    this.#signer = opts.signer;
    this.#logName = opts.logName;
    this.#policy = opts.policy;
    this.#log = opts.log;
  }

  /** Checks once a second, or sooner for short test intervals. */
  start(): void {
    const period = Math.min(1000, this.#policy.everySeconds * 1000);
    this.#timer = setInterval(() => void this.runOnce(), period);
    this.#timer.unref();
  }

  runOnce(force = false): Promise<unknown> {
    this.#running = this.#running.then(() =>
      signDueCheckpoints(this.#pool, this.#signer, this.#logName, this.#policy, force).then(
        (signed) => signed.forEach((c) => this.#log.info("checkpoint signed", { tenant: c.tenant, seq: c.seq })),
        (err: unknown) => this.#log.warn("checkpointing failed", { err }),
      ),
    );
    return this.#running;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}
