/**
 * Delivery samples for the chart: the server's history (GET …/delivery-history) when the server has the route;
 * otherwise samples of the mirrored counters this page sees at each refresh, so the chart is never empty.
 */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../../api/client.ts";
import type { DeliverySample, MirroredResource } from "../../api/types.ts";

const maxPageSamples = 720;

export function useDeliveryHistory(namespace: string, name: string, current: MirroredResource | undefined): { samples: DeliverySample[]; source: "server" | "page" } {
  const [server, setServer] = useState<DeliverySample[] | "unavailable" | undefined>(undefined);
  const [page, setPage] = useState<DeliverySample[]>([]);

  // Refetched whenever the page's own refresh brought a new mirror row.
  useEffect(() => {
    if (server === "unavailable") return;
    let live = true;
    api.deliveryHistory(namespace, name).then(
      (r) => live && setServer(r.samples),
      (e: unknown) => live && e instanceof ApiError && (e.problem.status === 404 || e.problem.status === 405) && e.code !== "unknown_destination" && setServer("unavailable"),
    );
    return () => void (live = false);
  }, [namespace, name, current]);

  useEffect(() => {
    const d = current?.delivery;
    if (!d) return;
    const sample: DeliverySample = { at: new Date().toISOString(), delivered: d.delivered ?? 0, failed: d.failed ?? 0, deadLettered: d.deadLettered ?? 0, lagEvents: d.lagEvents ?? null };
    setPage((s) => s.concat(sample).slice(-maxPageSamples));
  }, [current]);

  return Array.isArray(server) && server.length > 0 ? { samples: server, source: "server" } : { samples: page, source: "page" };
}
