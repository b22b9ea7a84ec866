import { requireSecretText } from "../../secrets.ts";
import { httpClientFor, type HttpConnection } from "../http.ts";
import type { DestinationInput } from "../types.ts";

export const hecPaths = { event: "/services/collector/event", raw: "/services/collector/raw", ack: "/services/collector/ack", health: "/services/collector/health" } as const;

/** The HEC token as `Authorization: Splunk <token>` (not the query string, which a token must allow explicitly). */
export function splunkHecConnection(input: DestinationInput<"splunkHec">): HttpConnection {
  const token = requireSecretText(input.secrets, input.config.tokenSecretRef);
  return { client: httpClientFor(input, input.config.url), headers: { authorization: `Splunk ${token}` } };
}
