import { eventSelectList, rowToEvent, type EventRow } from "../../core/src/db/event-rows.ts";
import { readChainHead } from "../../core/src/db/event-store.ts";
import type { Pool } from "../../core/src/db/pool.ts";
import { ChainVerifier } from "../../core/src/integrity/chain-verifier.ts";

/** Reads a tenant's whole chain, checks every link and the stored head with the product's verifier; returns the count. */
export async function assertChainValid(pool: Pool, tenant: string): Promise<number> {
  const res = await pool.query<EventRow>(`SELECT ${eventSelectList} FROM events WHERE tenant = $1 ORDER BY seq`, [tenant]);
  const head = await readChainHead(pool, tenant);
  const walker = new ChainVerifier();
  for (const row of res.rows) walker.push(rowToEvent(row));
  const r = walker.finish({ complete: true, expectedHead: head });
  if (!r.ok) throw new Error(`chain of ${tenant} broken at seq ${r.failure!.seq}: ${r.failure!.reason} ${r.failure!.message}`);
  return res.rows.length;
}
