import { allDelivered } from "../../forwarding/types.ts";
import { encodedOnce, noProtocolLimit, responseFailure } from "../delivery.ts";
import { isSuccess } from "../http.ts";
import type { SenderFactory } from "../types.ts";
import { auditBatchBody, auditBatchMessageId, checkpointBody, checkpointMessageId, webhookEventEncoder } from "./batch.ts";
import { webhookConnection } from "./connection.ts";

/**
 * Standard Webhooks delivery: one signed POST per batch. The id stays the same across retries of a batch; the
 * timestamp and signature are made afresh for every attempt, as receivers reject stale timestamps. Any 2xx is
 * delivered; 410 Gone stops the destination (DeliveryError "gone"); the rest goes through the one classifier.
 */
export const webhookSender: SenderFactory<"webhook"> = (input) => {
  const { client, signedHeaders } = webhookConnection(input);
  const encode = encodedOnce(webhookEventEncoder(input.format));
  return {
    limits: noProtocolLimit,
    encodedSize: (event) => Buffer.byteLength(encode(event)) + 1,
    async send(batch, signal) {
      const body = auditBatchBody(batch.map(encode), input.format);
      const id = auditBatchMessageId(input.destinationUid, batch);
      const res = await client.request({ method: "POST", path: "", headers: signedHeaders(id, body), body, signal });
      if (isSuccess(res.status)) return allDelivered(batch.length);
      throw responseFailure(res, client.baseUrl, res.status === 410 ? "the receiver answered 410 Gone and asks not to be sent events any more" : undefined);
    },
    async sendCheckpoint(record, signal) {
      const body = checkpointBody(record);
      const res = await client.request({ method: "POST", path: "", headers: signedHeaders(checkpointMessageId(input.destinationUid, record), body), body, signal });
      if (!isSuccess(res.status)) throw responseFailure(res, client.baseUrl);
    },
    close: () => client.close(),
  };
};
