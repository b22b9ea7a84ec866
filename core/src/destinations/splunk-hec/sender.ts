import { randomUUID } from "node:crypto";
import { allDelivered } from "../../forwarding/types.ts";
import { encodedOnce, noProtocolLimit } from "../delivery.ts";
import { describeResponse, joinUrl, parseJson } from "../http.ts";
import type { SenderFactory } from "../types.ts";
import { awaitIndexed } from "./ack.ts";
import { hecPaths, splunkHecConnection } from "./connection.ts";
import { hecBatchBody, hecCheckpointEnvelope, hecEnvelope } from "./envelope.ts";
import type { HecReply } from "./hec-codes.ts";
import { hecDeliveryError, invalidEventIndex, partialBatchOutcome } from "./hec-delivery.ts";

/** Splunk Cloud accepts 1 MB per request; staying under 900 KB leaves room for proxies (protocols.md §1). */
export const hecMaxRequestBytes = 900_000;

/** How long to wait for indexer acknowledgement, in multiples of the per-request timeout. */
export const ackTimeoutFactor = 6;

/**
 * Splunk HEC delivery to /services/collector/event. Every request carries a channel (required with indexer
 * acknowledgement, harmless without); with `indexerAcknowledgement` a batch is delivered only once its ackId is
 * reported indexed.
 */
export const splunkHecSender: SenderFactory<"splunkHec"> = (input) => {
  const { config, timeoutMs } = input;
  const connection = splunkHecConnection(input);
  const client = connection.client;
  const eventUrl = joinUrl(client.baseUrl, hecPaths.event);
  // One channel per sender: ack ids count per channel, and a new forwarder starts a new count.
  const channel = randomUUID();
  const headers = { ...connection.headers, "content-type": "application/json", "x-splunk-request-channel": channel };
  const meta = { sourcetype: config.sourcetype, index: config.index, source: config.source, host: config.host };
  const encode = encodedOnce((event) => hecEnvelope(event, meta, input.format));
  return {
    limits: { ...noProtocolLimit, maxBytes: hecMaxRequestBytes },
    encodedSize: (event) => Buffer.byteLength(encode(event)) + 1,
    async send(batch, signal) {
      const res = await client.request({ method: "POST", path: hecPaths.event, headers, body: hecBatchBody(batch.map(encode)), signal });
      const reply = parseJson<HecReply>(res.text);
      if (res.status === 200 && (reply?.code ?? 0) === 0) {
        // Without an ackId the token has no useACK: the 200 means "queued", as without acknowledgement.
        if (config.indexerAcknowledgement && typeof reply?.ackId === "number") await awaitIndexed(client, headers, channel, reply.ackId, timeoutMs * ackTimeoutFactor, signal);
        return allDelivered(batch.length);
      }
      const invalid = invalidEventIndex(res.status, reply, batch.length);
      if (invalid !== undefined && reply !== undefined) return partialBatchOutcome(batch.length, invalid, reply);
      throw hecDeliveryError(res.status, reply, describeResponse(res, eventUrl), res.headers["retry-after"]);
    },
    async sendCheckpoint(record, signal) {
      const res = await client.request({ method: "POST", path: hecPaths.event, headers, body: hecCheckpointEnvelope(record, meta), signal });
      const reply = parseJson<HecReply>(res.text);
      if (res.status !== 200 || (reply?.code ?? 0) !== 0) throw hecDeliveryError(res.status, reply, describeResponse(res, eventUrl), res.headers["retry-after"]);
      if (config.indexerAcknowledgement && typeof reply?.ackId === "number") await awaitIndexed(client, headers, channel, reply.ackId, timeoutMs * ackTimeoutFactor, signal);
    },
    close: () => client.close(),
  };
};
