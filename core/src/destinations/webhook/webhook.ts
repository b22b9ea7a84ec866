import { CheckFailure, succeeded, type CheckOutcome } from "../../checks/check-result.ts";
import { resolveTls } from "../../net/tls.ts";
import { requireSecretText } from "../../secrets.ts";
import { createHttpClient, describeResponse, statusFailure } from "../http.ts";
import type { DestinationFactory } from "../types.ts";
import { InvalidSigningSecretError, newMessageId, signingKey, webhookHeaders } from "./signature.ts";

/** The synthetic event a check sends; Standard Webhooks defines no ping, so receivers see a typed test event. */
export const testEventType = "trailkeeper.test";

export const webhookDestination: DestinationFactory<"webhook"> = ({ config, secrets, egress, timeoutMs }) => {
  let key: Buffer;
  try {
    key = signingKey(requireSecretText(secrets, config.signingSecretRef));
  } catch (err) {
    if (err instanceof InvalidSigningSecretError) throw new CheckFailure("InvalidConfig", err.message);
    throw err;
  }
  const client = createHttpClient({ baseUrl: config.url, tls: resolveTls(config.tls, secrets), allowInsecureHttp: config.allowInsecureHttp, egress, timeoutMs });

  return {
    async check(signal): Promise<CheckOutcome> {
      const now = new Date();
      const body = JSON.stringify({
        type: testEventType,
        timestamp: now.toISOString(),
        data: { message: "Connectivity check from Trailkeeper; no audit event is attached." },
      });
      const res = await client.request({ method: "POST", path: "", headers: webhookHeaders(key, newMessageId(), body, now), body, signal });
      if (res.status >= 200 && res.status < 300) return succeeded(`receiver accepted a signed ${testEventType} event (HTTP ${res.status})`);
      if (res.status === 401 || res.status === 403) {
        throw new CheckFailure("InvalidCredentials", `receiver rejected the signed test event: ${describeResponse(res, client.baseUrl)}; check the signing secret`);
      }
      if (res.status === 410) throw new CheckFailure("NotFound", `receiver answered 410 Gone: the endpoint is disabled; ${describeResponse(res, client.baseUrl)}`);
      throw statusFailure(res, client.baseUrl);
    },
    close: () => client.close(),
  };
};
