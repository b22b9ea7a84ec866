import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { allDelivered } from "../../forwarding/types.ts";
import { encodedOnce, responseFailure } from "../delivery.ts";
import { isSuccess, joinUrl } from "../http.ts";
import type { SenderFactory } from "../types.ts";
import { datadogConnection, logsPath } from "./connection.ts";
import { datadogCheckpointEntry, datadogLogOf } from "./log-entry.ts";

const gzipAsync = promisify(gzip);

/** Intake limits (protocols.md §2): 1000 logs and 5 MB uncompressed per request; the 2 bytes are the brackets. */
export const datadogLimits = { maxEvents: 1000, maxBytes: 5_000_000 - 2 };

/**
 * Datadog Logs API v2: a gzipped JSON array per batch to the site's intake host (or the endpoint override). 202 is
 * delivered; the intake reports nothing per log, so a 400 is bisected by the forwarder to find the bad one.
 */
export const datadogSender: SenderFactory<"datadog"> = (input) => {
  const { config, hostname } = input;
  const connection = datadogConnection(input, "intake");
  const client = connection.client;
  const logsUrl = joinUrl(client.baseUrl, logsPath);
  const options = { source: config.source, service: config.service, hostname, tags: config.tags ?? [] };
  const logEntry = datadogLogOf(input.format);
  const encode = encodedOnce((event) => JSON.stringify(logEntry(event, options)));
  const headers = { ...connection.headers, "content-type": "application/json", "content-encoding": "gzip" };
  return {
    limits: datadogLimits,
    encodedSize: (event) => Buffer.byteLength(encode(event)) + 1,
    async send(batch, signal) {
      const body = await gzipAsync(`[${batch.map(encode).join(",")}]`);
      const res = await client.request({ method: "POST", path: logsPath, headers, body, signal });
      if (isSuccess(res.status)) return allDelivered(batch.length);
      throw responseFailure(res, logsUrl);
    },
    async sendCheckpoint(record, signal) {
      const body = await gzipAsync(JSON.stringify([datadogCheckpointEntry(record, options)]));
      const res = await client.request({ method: "POST", path: logsPath, headers, body, signal });
      if (!isSuccess(res.status)) throw responseFailure(res, logsUrl);
    },
    close: () => client.close(),
  };
};
