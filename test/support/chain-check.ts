import { checkLink, genesisHash } from "../../core/src/events/chain.ts";
import { eventSelectList, rowToEvent, type EventRow } from "../../core/src/db/event-rows.ts";
import type { Pool } from "../../core/src/db/pool.ts";

/** Reads a tenant's whole chain and checks every link; returns the number of events. */
export async function assertChainValid(pool: Pool, tenant: string): Promise<number> {
  const res = await pool.query<EventRow>(`SELECT ${eventSelectList} FROM events WHERE tenant = $1 ORDER BY seq`, [tenant]);
  let head = { seq: 0, hash: genesisHash };
  for (const row of res.rows) {
    const e = rowToEvent(row);
    const fault = checkLink(head, e);
    if (fault) throw new Error(`chain of ${tenant} broken at seq ${fault.seq}: ${fault.kind} ${fault.message}`);
    head = { seq: e.seq, hash: e.hash };
  }
  const stored = await pool.query<{ seq: number; hash: string }>("SELECT seq, hash FROM chain_heads WHERE tenant = $1", [tenant]);
  if (stored.rows[0]?.seq !== head.seq || stored.rows[0]?.hash !== head.hash) throw new Error(`chain head of ${tenant} disagrees with its last event`);
  return res.rows.length;
}
