import { allDelivered } from "../../forwarding/types.ts";
import { resolveTls } from "../../net/tls.ts";
import { requireSecretText } from "../../secrets.ts";
import { encodedOnce, isSuccess, noProtocolLimit, responseFailure } from "../delivery.ts";
import { createHttpClient } from "../http.ts";
import type { SenderFactory } from "../types.ts";
import { auditBatchBody, auditBatchMessageId } from "./batch.ts";
import { signingKey, webhookHeaders } from "./signature.ts";

/**
 * Standard Webhooks delivery: one signed POST per batch. The id stays the same across retries of a batch; the
 * timestamp and signature are made afresh for every attempt, as receivers reject stale timestamps. Any 2xx is
 * delivered; 410 Gone stops the destination (DeliveryError "gone"); the rest goes through the one classifier.
 */
export const webhookSender: SenderFactory<"webhook"> = ({ config, secrets, egress, timeoutMs, destinationUid }) => {
  const key = signingKey(requireSecretText(secrets, config.signingSecretRef));
  const client = createHttpClient({ baseUrl: config.url, tls: resolveTls(config.tls, secrets), allowInsecureHttp: config.allowInsecureHttp, egress, timeoutMs });
  const encode = encodedOnce((event) => JSON.stringify(event));
  return {
    limits: noProtocolLimit,
    encodedSize: (event) => Buffer.byteLength(encode(event)) + 1,
    async send(batch, signal) {
      const body = auditBatchBody(batch.map(encode));
      const id = auditBatchMessageId(destinationUid, batch);
      const res = await client.request({ method: "POST", path: "", headers: webhookHeaders(key, id, body), body, signal });
      if (isSuccess(res.status)) return allDelivered(batch.length);
      throw responseFailure(res, client.baseUrl, res.status === 410 ? "the receiver answered 410 Gone and asks not to be sent events any more" : undefined);
    },
    close: () => client.close(),
  };
};
