import { setTimeout as delay } from "node:timers/promises";
import { DeliveryError } from "../../forwarding/classify.ts";
import { parseJson, type HttpClient } from "../http.ts";
import { hecPaths } from "./connection.ts";

const firstPollMs = 100;
const maxPollMs = 2000;

/**
 * Waits until Splunk reports `ackId` of this channel indexed. A 200 without acknowledgement only means "queued",
 * so the batch counts as delivered only after this; past the deadline it is resent (duplicates are possible,
 * loss is not). Polls back off from 100 ms to 2 s; an id answers `true` once, so one poll per id is enough.
 */
export async function awaitIndexed(client: HttpClient, headers: Record<string, string>, channel: string, ackId: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let wait = firstPollMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    const res = await client.request({ method: "POST", path: hecPaths.ack, query: { channel }, headers, body: JSON.stringify({ acks: [ackId] }), signal });
    const acks = parseJson<{ acks?: Record<string, boolean> }>(res.text)?.acks;
    if (res.status === 200 && acks?.[String(ackId)] === true) return;
    last = res.status === 200 ? "not yet indexed" : `HTTP ${res.status}: ${res.text.slice(0, 200)}`;
    // Rejects with an AbortError when the forwarder stops; the forwarder then discards the attempt, whatever the error.
    await delay(Math.min(wait, Math.max(0, deadline - Date.now())), undefined, { signal });
    wait = Math.min(maxPollMs, wait * 2);
  }
  throw new DeliveryError("retryable", `Splunk did not acknowledge indexing of ackId ${ackId} within ${Math.round(timeoutMs / 1000)} s (${last}); resending the batch`);
}
