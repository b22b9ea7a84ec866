import type { S3Client } from "@aws-sdk/client-s3";
import type { RecordingStorageSpec } from "@trailkeeper/core/crd/recording-storage.ts";
import type { Pool } from "@trailkeeper/core/db/pool.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import type { EgressPolicy } from "@trailkeeper/core/net/egress.ts";
import type { SecretSource } from "@trailkeeper/core/secrets.ts";
import { publishCheckpointsToBucket, type CheckpointRetention } from "@trailkeeper/core/storage/checkpoint-publisher.ts";
import { createS3Client } from "@trailkeeper/core/storage/s3-client.ts";
import type { WitnessMetrics } from "./witness-metrics.ts";

/** A RecordingStorage as its reconciler resolved it: the bucket its tenant's checkpoints are published to. */
export interface ResolvedStorage {
  key: string;
  uid: string;
  tenant: string;
  spec: RecordingStorageSpec;
  secrets: SecretSource;
  /** Changes when spec, Secrets or tenant change: the S3 client is rebuilt. */
  revision: string;
}

export interface CheckpointPublishingDeps {
  pool: Pool;
  egress: EgressPolicy;
  retention: CheckpointRetention;
  intervalMs: number;
  logger: Logger;
  metrics?: WitnessMetrics;
}

interface Entry {
  storage: ResolvedStorage;
  s3: S3Client;
  /** The last error logged, so that a bucket failing the same way every round is logged once. */
  lastError?: string;
}

/**
 * Witnessing (docs/integrity.md §7), run by the operator's leader because it holds the storages' credentials: every
 * interval, each resolved RecordingStorage gets its tenant's checkpoints published since its durable cursor
 * (`checkpoint_publications`), so every checkpoint reaches the bucket at least once across restarts and leader
 * changes. The API server only signs; it never needs bucket credentials.
 */
export class CheckpointPublishing {
  readonly #entries = new Map<string, Entry>();
  readonly #d: CheckpointPublishingDeps;
  #round: Promise<void> = Promise.resolve();

  constructor(deps: CheckpointPublishingDeps) {
    this.#d = deps;
  }

  /** Publishes or withdraws a storage (called after each RecordingStorage reconcile). */
  set(key: string, storage: ResolvedStorage | undefined): void {
    const old = this.#entries.get(key);
    if (old && storage && old.storage.revision === storage.revision) return void (old.storage = storage);
    old?.s3.destroy();
    this.#entries.delete(key);
    if (!storage) return;
    try {
      this.#entries.set(key, { storage, s3: createS3Client(storage.spec, { secrets: storage.secrets, egress: this.#d.egress }) });
    } catch (err) {
      this.#d.logger.warn("checkpoint publishing: cannot build the S3 client", { storage: key, err });
    }
  }

  /** Runs rounds until `signal` aborts (the end of the leadership term). */
  serve(signal: AbortSignal): void {
    const tick = setInterval(() => void this.runOnce(), this.#d.intervalMs);
    void this.runOnce();
    signal.addEventListener("abort", () => clearInterval(tick), { once: true });
  }

  /** One round over every storage; rounds never overlap. */
  runOnce(): Promise<void> {
    this.#round = this.#round.then(async () => {
      for (const [key, entry] of this.#entries) await this.#publish(key, entry);
    });
    return this.#round;
  }

  async #publish(key: string, entry: Entry): Promise<void> {
    const { storage, s3 } = entry;
    try {
      const round = await publishCheckpointsToBucket(this.#d.pool, { s3, spec: storage.spec, target: `s3:${storage.uid}`, resource: key, tenant: storage.tenant, retention: this.#d.retention });
      this.#d.metrics?.published.inc({ target: key, kind: "bucket" }, round.written + round.present);
      if (round.written > 0) this.#d.logger.info("checkpoints published", { storage: key, tenant: storage.tenant, written: round.written, objectLock: round.objectLock });
      for (const k of round.conflicts) this.#d.logger.warn("a checkpoint's object already holds another note; left as it is", { storage: key, object: k });
      entry.lastError = undefined;
    } catch (err) {
      const message = (err as Error).message;
      this.#d.metrics?.failures.inc({ target: key, kind: "bucket" });
      if (entry.lastError !== message) this.#d.logger.warn("checkpoint publishing failed; retried next round", { storage: key, err });
      entry.lastError = message;
    }
  }

  async stop(): Promise<void> {
    await this.#round;
    for (const key of [...this.#entries.keys()]) this.set(key, undefined);
  }
}
