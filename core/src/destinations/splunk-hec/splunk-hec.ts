import { randomUUID } from "node:crypto";
import { CheckFailure, succeeded, type CheckOutcome } from "../../checks/check-result.ts";
import { describeResponse, parseJson, statusFailure, type HttpClient, type HttpConnection } from "../http.ts";
import type { DestinationFactory } from "../types.ts";
import { hecPaths, splunkHecConnection } from "./connection.ts";
import { hecCodeFailure, hecHealthy, hecNoData, type HecReply } from "./hec-codes.ts";

/** Step 1: is this a healthy HEC? It answers for any token, so it proves only TCP/TLS and the endpoint. */
async function checkHealth(client: HttpClient, signal: AbortSignal): Promise<void> {
  const res = await client.request({ method: "GET", path: hecPaths.health, signal });
  const reply = parseJson<HecReply>(res.text);
  if (res.status === 200 && reply?.code === hecHealthy) return;
  if (res.status === 404) throw new CheckFailure("NotFound", `no HTTP Event Collector at this URL: ${describeResponse(res, client.baseUrl)}`);
  const known = reply?.code === undefined ? undefined : hecCodeFailure(reply.code);
  if (known !== undefined) throw new CheckFailure(known.reason, `${known.message}: ${describeResponse(res, client.baseUrl)}`);
  if (res.status === 200) throw new CheckFailure("UnexpectedResponse", `the health endpoint did not answer like HEC: ${describeResponse(res, client.baseUrl)}`);
  throw statusFailure(res, client.baseUrl);
}

/**
 * Step 2: the token check that writes nothing — an empty POST to the event endpoint. A valid token gets code 5
 * "No data"; token problems get 401/403 with their own codes. It cannot prove the token may write the index.
 */
async function checkToken({ client, headers }: HttpConnection, signal: AbortSignal): Promise<CheckOutcome> {
  const res = await client.request({
    method: "POST",
    path: hecPaths.event,
    headers: { ...headers, "x-splunk-request-channel": randomUUID(), "content-type": "application/json" },
    body: "",
    signal,
  });
  const reply = parseJson<HecReply>(res.text);
  if (reply?.code === hecNoData || reply?.code === 0) {
    return succeeded("HEC is healthy and accepted the token (empty-body probe; permission on the index is not proven until the first event)");
  }
  const known = reply?.code === undefined ? undefined : hecCodeFailure(reply.code);
  if (known !== undefined) throw new CheckFailure(known.reason, `${known.message}: ${describeResponse(res, client.baseUrl)}`);
  throw statusFailure(res, client.baseUrl);
}

export const splunkHecDestination: DestinationFactory<"splunkHec"> = (input) => {
  const connection = splunkHecConnection(input);
  return {
    async check(signal) {
      await checkHealth(connection.client, signal);
      return checkToken(connection, signal);
    },
    close: () => connection.client.close(),
  };
};
