import { randomUUID } from "node:crypto";
import { CheckFailure, succeeded, type CheckOutcome } from "../../checks/check-result.ts";
import type { StoredEvent } from "../../events/model.ts";
import type { FormatOf } from "../../formats/formats.ts";
import { ocsfEvent, ocsfVersion } from "../../formats/ocsf.ts";
import { describeResponse, isSuccess, statusFailure } from "../http.ts";
import type { DestinationFactory } from "../types.ts";
import { webhookConnection } from "./connection.ts";
import { newMessageId } from "./signature.ts";

/** The synthetic event a check sends; Standard Webhooks defines no ping, so receivers see a typed test event. */
export const testEventType = "trailkeeper.test";

const probeMessage = "Connectivity check from Trailkeeper; no audit event is attached.";
const ocsfProbeMessage = "Connectivity check from Trailkeeper; the OCSF event is a stand-in, not an audit event.";

/** A stand-in event for the OCSF probe, so the receiver sees the shape it will get; seq 0 is never a real event. */
function probeEvent(now: Date): StoredEvent {
  const at = now.toISOString();
  const zero = "0".repeat(64);
  return { id: randomUUID(), tenant: "trailkeeper-probe", seq: 0, occurredAt: at, receivedAt: at, actor: { id: "trailkeeper", type: "system" }, action: "audit.destination.test", category: "audit", resource: { type: "destination", id: "connectivity-check" }, outcome: "success", prevHash: zero, hash: zero };
}

/** The check's body: a typed test event in the destination's format (OCSF: one OCSF event under `events`). */
export function probeBody(format: FormatOf<"webhook">, now: Date): string {
  const base = { type: testEventType, timestamp: now.toISOString() };
  if (format === "ocsf") return JSON.stringify({ ...base, format: "ocsf", ocsfVersion, data: { message: ocsfProbeMessage }, events: [ocsfEvent(probeEvent(now))] });
  return JSON.stringify({ ...base, data: { message: probeMessage } });
}

export const webhookDestination: DestinationFactory<"webhook"> = (input) => {
  const { client, signedHeaders } = webhookConnection(input);
  return {
    async check(signal): Promise<CheckOutcome> {
      const now = new Date();
      const body = probeBody(input.format, now);
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
