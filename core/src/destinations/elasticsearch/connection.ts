import { CheckFailure } from "../../checks/check-result.ts";
import { requireSecretText, type SecretSource } from "../../secrets.ts";
import { httpClientFor, type HttpConnection } from "../http.ts";
import type { DestinationConfig, DestinationInput } from "../types.ts";

/** The client, credentials and write target an Elasticsearch check and sender share. */
export interface ElasticsearchConnection extends HttpConnection {
  /** The data stream or index written to. */
  target: string;
  /** The target as messages name it: "data stream logs-x" or "index audit". */
  targetLabel: string;
}

export function authorizationHeader(config: DestinationConfig<"elasticsearch">, secrets: SecretSource): string {
  if (config.apiKeySecretRef !== undefined) return `ApiKey ${requireSecretText(secrets, config.apiKeySecretRef)}`;
  if (config.basicAuth !== undefined) {
    const password = requireSecretText(secrets, config.basicAuth.passwordSecretRef);
    return `Basic ${Buffer.from(`${config.basicAuth.username}:${password}`).toString("base64")}`;
  }
  throw new CheckFailure("InvalidConfig", "set apiKeySecretRef or basicAuth");
}

export function elasticsearchConnection(input: DestinationInput<"elasticsearch">): ElasticsearchConnection {
  const { config, secrets } = input;
  const headers = { authorization: authorizationHeader(config, secrets), accept: "application/json" };
  const target = config.dataStream ?? config.index ?? "";
  const targetLabel = config.dataStream === undefined ? `index ${target}` : `data stream ${target}`;
  return { client: httpClientFor(input, config.url), headers, target, targetLabel };
}
