import { DeliveryError } from "../../forwarding/classify.ts";
import { encodedOnce, noProtocolLimit, responseFailure } from "../delivery.ts";
import { joinUrl, parseJson } from "../http.ts";
import type { SenderFactory } from "../types.ts";
import { bulkCreatePair, bulkFilterPath, bulkOutcomes, type BulkReply } from "./bulk.ts";
import { elasticsearchCheckpointDocument, elasticsearchDocumentOf } from "./ecs.ts";
import { checkpointRecordId } from "../checkpoint-record.ts";
import { elasticsearchConnection } from "./connection.ts";

/** Elastic advises against going beyond a couple tens of megabytes per `_bulk` request (protocols.md §3). */
export const bulkMaxRequestBytes = 20 * 1024 * 1024;

/** A `_bulk` reply lists every item; with filter_path an item is ~25 bytes, or a few hundred with an error. */
const bulkMaxResponseBytes = 32 * 1024 * 1024;

/**
 * Elasticsearch `_bulk` delivery into the configured index or data stream. HTTP 200 says nothing about the
 * documents: the per-item statuses decide, so one bad document is dead-lettered and a throttled one retried
 * without resending (or duplicating) the rest.
 */
export const elasticsearchSender: SenderFactory<"elasticsearch"> = (input) => {
  const connection = elasticsearchConnection(input);
  const client = connection.client;
  const path = `/${encodeURIComponent(connection.target)}/_bulk`;
  const headers = { ...connection.headers, "content-type": "application/x-ndjson" };
  const bulkUrl = joinUrl(client.baseUrl, path);
  const document = elasticsearchDocumentOf(input.format);
  const encode = encodedOnce((event) => bulkCreatePair(event.id, JSON.stringify(document(event))));
  return {
    limits: { ...noProtocolLimit, maxBytes: bulkMaxRequestBytes },
    encodedSize: (event) => Buffer.byteLength(encode(event)),
    async send(batch, signal) {
      const body = batch.map(encode).join("");
      const res = await client.request({ method: "POST", path, query: { filter_path: bulkFilterPath }, headers, body, signal, maxResponseBytes: bulkMaxResponseBytes });
      if (res.status !== 200) throw responseFailure(res, bulkUrl);
      const items = bulkOutcomes(parseJson<BulkReply>(res.text), batch.length);
      if (items === undefined) throw new DeliveryError("retryable", `unexpected _bulk reply from ${bulkUrl.origin}${bulkUrl.pathname}: ${res.text.slice(0, 200)}`);
      return { items };
    },
    async sendCheckpoint(record, signal) {
      const body = bulkCreatePair(checkpointRecordId(record), JSON.stringify(elasticsearchCheckpointDocument(record)));
      const res = await client.request({ method: "POST", path, query: { filter_path: bulkFilterPath }, headers, body, signal });
      if (res.status !== 200) throw responseFailure(res, bulkUrl);
      const [item] = bulkOutcomes(parseJson<BulkReply>(res.text), 1) ?? [];
      // 409: a document with this id exists, i.e. an earlier attempt was indexed.
      if (item?.status !== "delivered") throw new DeliveryError("retryable", `checkpoint ${record.seq} not indexed by ${bulkUrl.origin}${bulkUrl.pathname}: ${item && "reason" in item ? item.reason : res.text.slice(0, 200)}`);
    },
    close: () => client.close(),
  };
};
