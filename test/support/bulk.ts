import { randomUUID } from "node:crypto";
import { appendToChain } from "../../core/src/db/event-store.ts";
import { inTransaction, type Pool } from "../../core/src/db/pool.ts";
import { toPendingEvent } from "../../core/src/events/model.ts";

const actions = ["auth.login", "auth.logout", "resource.update", "secret.reveal", "user.create", "settings.update", "apikey.create", "vpn.connect"];

/** Appends `n` realistic events straight through the store (the same code path the API uses), in big batches. */
export async function bulkAppend(pool: Pool, tenant: string, n: number, batch = 5000): Promise<void> {
  for (let done = 0; done < n; done += batch) {
    const now = new Date();
    const pending = Array.from({ length: Math.min(batch, n - done) }, (_, i) => {
      const k = done + i;
      return toPendingEvent(
        {
          actor: { id: `user-${k % 997}`, name: `User ${k % 997}`, type: "user" },
          action: actions[k % actions.length]!,
          resource: { type: "cluster", id: `cluster-${k % 101}`, name: `Cluster ${k % 101}` },
          outcome: k % 13 === 0 ? "failure" : "success",
          clientIp: `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`,
          userAgent: "Mozilla/5.0 (X11; Linux x86_64) trailkeeper-bench",
          details: { ticket: `T-${k}`, reason: k % 5 === 0 ? "scheduled maintenance window" : "on-call request", count: k },
        },
        tenant,
        randomUUID(),
        now,
      );
    });
    await inTransaction(pool, (c) => appendToChain(c, tenant, pending));
  }
}
