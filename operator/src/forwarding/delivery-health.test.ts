import { describe, expect, it } from "vitest";
import { deliveryHealth, failingForMs, latestError, noObservations, observeStep, rejectedRunThreshold, type DeliveryObservations } from "./delivery-health.ts";

const t0 = Date.parse("2026-12-01T00:00:00Z");
type Totals = { delivered: number; failed: number; deadLettered: number };

/** Feeds rounds (running totals, one second apart) through observeStep from a baseline of zeros. */
function observe(rounds: Totals[], start: DeliveryObservations = noObservations): DeliveryObservations {
  let obs = observeStep(start, { delivered: 0, failed: 0, deadLettered: 0 }, t0);
  rounds.forEach((r, i) => (obs = observeStep(obs, r, t0 + (i + 1) * 1000)));
  return obs;
}

describe("deliveryHealth", () => {
  it("is Delivering=True while events are accepted", () => {
    const obs = observe([{ delivered: 10, failed: 0, deadLettered: 0 }, { delivered: 20, failed: 1, deadLettered: 1 }]);
    expect(deliveryHealth(obs, "running", undefined, t0 + 3000)).toMatchObject({ status: "True", reason: "Delivering" });
  });

  it("turns False with EventsRejected when every event since the last delivery was dead-lettered, quoting the error", () => {
    const obs = observe([{ delivered: 3, failed: 0, deadLettered: 0 }, { delivered: 3, failed: 0, deadLettered: 2 }, { delivered: 3, failed: 0, deadLettered: rejectedRunThreshold }]);
    const h = deliveryHealth(obs, "running", "dead-lettered seq 9: HTTP 400", t0 + 4000, "HTTP 400: field missing");
    expect(h).toMatchObject({ status: "False", reason: "EventsRejected" });
    expect(h.message).toContain("latest reason: HTTP 400: field missing");
    // The message does not grow with the run, so it does not cause status writes of its own.
    const longer = observeStep(obs, { delivered: 3, failed: 0, deadLettered: rejectedRunThreshold + 20 }, t0 + 5000);
    expect(deliveryHealth(longer, "running", "dead-lettered seq 29: HTTP 400", t0 + 5000, "HTTP 400: field missing").message).toBe(h.message);
  });

  it("stays True below the threshold, and recovers as soon as an event is delivered", () => {
    const below = observe([{ delivered: 0, failed: 0, deadLettered: rejectedRunThreshold - 1 }]);
    expect(deliveryHealth(below, "running", undefined, t0).status).toBe("True");
    const recovered = observe([{ delivered: 0, failed: 0, deadLettered: 50 }, { delivered: 1, failed: 0, deadLettered: 50 }]);
    expect(deliveryHealth(recovered, "running", undefined, t0).status).toBe("True");
  });

  it("does not count the totals found at start (kept in Postgres) as a run", () => {
    const obs = observeStep(noObservations, { delivered: 0, failed: 0, deadLettered: 1000 }, t0);
    expect(deliveryHealth(obs, "running", undefined, t0).status).toBe("True");
  });

  it("turns False with DeliveryFailing only after every attempt failed for longer than the limit", () => {
    const failing = observe([{ delivered: 0, failed: 1, deadLettered: 0 }, { delivered: 0, failed: 2, deadLettered: 0 }]);
    expect(failing.failingSince).toBe(t0 + 1000);
    expect(deliveryHealth(failing, "backoff", "HTTP 503", t0 + 1000 + failingForMs).status).toBe("True");
    expect(deliveryHealth(failing, "backoff", "HTTP 503", t0 + 1001 + failingForMs)).toMatchObject({ status: "False", reason: "DeliveryFailing" });
    const healed = observeStep(failing, { delivered: 5, failed: 2, deadLettered: 0 }, t0 + 10 * failingForMs);
    expect(deliveryHealth(healed, "running", undefined, t0 + 10 * failingForMs).status).toBe("True");
  });

  it("reports a paused or gone forwarder", () => {
    expect(deliveryHealth(noObservations, "paused", "seq 3 rejected", t0).reason).toBe("Paused");
    expect(deliveryHealth(noObservations, "gone", "HTTP 410", t0).reason).toBe("Gone");
  });
});

describe("latestError", () => {
  it("names the latest dead letter's reason when it came after the last failed attempt", () => {
    const obs = observe([{ delivered: 0, failed: 1, deadLettered: 0 }, { delivered: 0, failed: 1, deadLettered: 1 }]);
    expect(latestError(obs, "HTTP 503", "dead-lettered seq 4: HTTP 400")).toBe("dead-lettered seq 4: HTTP 400");
    const later = observeStep(obs, { delivered: 0, failed: 2, deadLettered: 1 }, t0 + 10_000);
    expect(latestError(later, "HTTP 503", "dead-lettered seq 4: HTTP 400")).toBe("HTTP 503");
    expect(latestError(noObservations, null, undefined)).toBeUndefined();
  });
});
