import { CheckFailure } from "../../checks/check-result.ts";
import { requireSecretText } from "../../secrets.ts";
import { httpClientFor, type HttpClient } from "../http.ts";
import type { DestinationInput } from "../types.ts";
import { InvalidSigningSecretError, signingKey, webhookHeaders } from "./signature.ts";

/** What a webhook's check and sender share: the client, and the signer its key stays inside. */
export interface WebhookConnection {
  client: HttpClient;
  /** The Standard Webhooks headers of one attempt (content-type, id, timestamp, signature). */
  signedHeaders(id: string, body: string, now?: Date): Record<string, string>;
}

/** The key is read first: an unusable signing secret is a configuration problem, whatever the network says. */
export function webhookConnection(input: DestinationInput<"webhook">): WebhookConnection {
  const key = signingKeyOf(input);
  const client = httpClientFor(input, input.config.url);
  return { client, signedHeaders: (id, body, now) => webhookHeaders(key, id, body, now) };
}

function signingKeyOf({ config, secrets }: DestinationInput<"webhook">): Buffer {
  try {
    return signingKey(requireSecretText(secrets, config.signingSecretRef));
  } catch (err) {
    if (err instanceof InvalidSigningSecretError) throw new CheckFailure("InvalidConfig", err.message);
    throw err;
  }
}
