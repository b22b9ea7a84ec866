import { CheckFailure, succeeded, type CheckOutcome } from "../../checks/check-result.ts";
import { describeResponse, isSuccess, statusFailure } from "../http.ts";
import type { DestinationFactory } from "../types.ts";
import { webhookConnection } from "./connection.ts";
import { newMessageId } from "./signature.ts";

/** The synthetic event a check sends; Standard Webhooks defines no ping, so receivers see a typed test event. */
export const testEventType = "trailkeeper.test";

export const webhookDestination: DestinationFactory<"webhook"> = (input) => {
  const { client, signedHeaders } = webhookConnection(input);
  return {
    async check(signal): Promise<CheckOutcome> {
      const now = new Date();
      const body = JSON.stringify({
        type: testEventType,
        timestamp: now.toISOString(),
        data: { message: "Connectivity check from Trailkeeper; no audit event is attached." },
      });
      const res = await client.request({ method: "POST", path: "", headers: signedHeaders(newMessageId(), body, now), body, signal });
      if (isSuccess(res.status)) return succeeded(`receiver accepted a signed ${testEventType} event (HTTP ${res.status})`);
      if (res.status === 401 || res.status === 403) {
        throw new CheckFailure("InvalidCredentials", `receiver rejected the signed test event: ${describeResponse(res, client.baseUrl)}; check the signing secret`);
      }
      if (res.status === 410) throw new CheckFailure("NotFound", `receiver answered 410 Gone: the endpoint is disabled; ${describeResponse(res, client.baseUrl)}`);
      throw statusFailure(res, client.baseUrl);
    },
    close: () => client.close(),
  };
};
