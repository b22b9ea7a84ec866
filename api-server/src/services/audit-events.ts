import { appendToChain } from "@trailkeeper/core/db/event-store.ts";
import type { PoolClient } from "@trailkeeper/core/db/pool.ts";
import { toPendingEvent, type ParsedEventInput } from "@trailkeeper/core/events/model.ts";
import { uuidv7 } from "@trailkeeper/core/ids.ts";

/** The actor recorded for what the admin token does. */
export const adminActor = { id: "admin", name: "Administrator", type: "system" } as const;

/**
 * Appends one event the server records about itself (API keys, console sign-ins, viewer sessions) to the
 * tenant's own chain, inside the caller's transaction so that the record and the change commit together.
 */
export async function appendAuditEvent(client: PoolClient, tenant: string, input: ParsedEventInput): Promise<void> {
  await appendToChain(client, tenant, [toPendingEvent(input, tenant, uuidv7(), new Date())]);
}
