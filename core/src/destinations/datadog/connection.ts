import { requireSecretText } from "../../secrets.ts";
import { httpClientFor, type HttpConnection } from "../http.ts";
import type { DestinationInput } from "../types.ts";
import { datadogBaseUrls } from "./sites.ts";

export const validatePath = "/api/v1/validate";
export const logsPath = "/api/v2/logs";

/**
 * The API key as `DD-API-KEY`, against one of the site's two hosts: the check validates the key on the API host,
 * the sender posts logs to the intake host (both the endpoint override, when set).
 */
export function datadogConnection(input: DestinationInput<"datadog">, host: "api" | "intake"): HttpConnection {
  const apiKey = requireSecretText(input.secrets, input.config.apiKeySecretRef);
  const baseUrl = datadogBaseUrls(input.config.site, input.config.endpoint)[host];
  return { client: httpClientFor(input, baseUrl), headers: { "dd-api-key": apiKey, accept: "application/json" } };
}
