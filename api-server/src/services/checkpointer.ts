import { signDueCheckpoints, type CheckpointPolicy } from "@trailkeeper/core/db/checkpoints.ts";
import { backfillTrees } from "@trailkeeper/core/db/merkle-tree.ts";
import type { Pool } from "@trailkeeper/core/db/pool.ts";
import type { NoteSigner } from "@trailkeeper/core/integrity/signing-key.ts";
import type { Logger } from "@trailkeeper/core/log.ts";

/**
 * Periodically signs checkpoints for tenants whose heads have moved enough (see signDueCheckpoints). Each round
 * first runs a slice of the Merkle back-fill job (backfillTrees), so that tenants with events from before the
 * tree existed get their tree, and then Merkle checkpoints, without a separate process.
 */
export class Checkpointer {
  readonly #pool: Pool;
  readonly #signer: NoteSigner;
  readonly #logName: string;
  readonly #policy: CheckpointPolicy;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();
  readonly #backfillFailed = new Set<string>();

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
      this.#backfill().then(() => signDueCheckpoints(this.#pool, this.#signer, this.#logName, this.#policy, force)).then(
        (signed) => signed.forEach((c) => this.#log.info("checkpoint signed", { tenant: c.tenant, seq: c.seq })),
        (err: unknown) => this.#log.warn("checkpointing failed", { err }),
      ),
    );
    return this.#running;
  }

  /** One round of the back-fill job; its failures are logged, never in the way of signing. */
  async #backfill(): Promise<void> {
    try {
      const round = await backfillTrees(this.#pool);
      round.completed.forEach((tenant) => this.#log.info("Merkle tree back-filled", { tenant }));
      for (const { tenant, error } of round.failed) {
        // A tenant that cannot be back-filled fails the same way every round: say so once.
        if (!this.#backfillFailed.has(tenant)) this.#log.warn("Merkle tree back-fill failed", { tenant, err: error });
        this.#backfillFailed.add(tenant);
      }
    } catch (err) {
      this.#log.warn("Merkle tree back-fill failed", { err });
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}
