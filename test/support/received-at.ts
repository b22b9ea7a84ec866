import { appendToChain } from "../../core/src/db/event-store.ts";
import { inTransaction, type Pool } from "../../core/src/db/pool.ts";
import { eventInputSchema, toPendingEvent } from "../../core/src/events/model.ts";
import { uuidv7 } from "../../core/src/ids.ts";
import { sampleEvent } from "./api.ts";

/**
 * Appends `n` sample events to the tenant's chain as if the server had received them at `at` (the append path
 * itself, in one transaction): how tests get events into months long past, for partitions and retention.
 */
export async function appendReceivedAt(pool: Pool, tenant: string, n: number, at: string): Promise<void> {
  const pending = Array.from({ length: n }, () => toPendingEvent(eventInputSchema.parse(sampleEvent()), tenant, uuidv7(), new Date(at)));
  await inTransaction(pool, (c) => appendToChain(c, tenant, pending));
}
