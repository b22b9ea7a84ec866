import type { ForwarderStats } from "@trailkeeper/core/forwarding/forwarder.ts";

/** Consecutive dead-lettered events, none delivered in between, that make a destination `EventsRejected`. */
export const rejectedRunThreshold = 5;
/** How long every attempt may fail before a destination is `DeliveryFailing`. */
export const failingForMs = 5 * 60_000;

/** What the supervisor has seen of one forwarder since it started; updated by `observeStep` after every round. */
export interface DeliveryObservations {
  /** Events dead-lettered since the last round that delivered anything. */
  rejectedRun: number;
  /** When the current run of failed attempts began; undefined once a round makes progress. */
  failingSince: number | undefined;
  /** When the last dead letter and the last failed attempt were seen, to tell which error is the latest. */
  lastDeadLetterAt: number | undefined;
  lastFailureAt: number | undefined;
  /** Totals of the previous round, to compute what this round did. */
  totals: { delivered: number; failed: number; deadLettered: number } | undefined;
}

export const noObservations: DeliveryObservations = { rejectedRun: 0, failingSince: undefined, lastDeadLetterAt: undefined, lastFailureAt: undefined, totals: undefined };

/** Folds one forwarder round (its running totals) into the observations. */
export function observeStep(prev: DeliveryObservations, stats: Pick<ForwarderStats, "delivered" | "failed" | "deadLettered">, now: number): DeliveryObservations {
  const totals = { delivered: stats.delivered, failed: stats.failed, deadLettered: stats.deadLettered };
  // The first round after a start only sets the baseline: totals are kept in Postgres across restarts.
  if (prev.totals === undefined) return { ...prev, totals };
  const delivered = totals.delivered - prev.totals.delivered;
  const deadLettered = totals.deadLettered - prev.totals.deadLettered;
  const failed = totals.failed - prev.totals.failed;
  // A round that failed without moving the cursor continues (or starts) a failing run; any other round ends it.
  const failing = failed > 0 && delivered <= 0 && deadLettered <= 0;
  return {
    rejectedRun: delivered > 0 ? 0 : prev.rejectedRun + Math.max(0, deadLettered),
    failingSince: failing ? (prev.failingSince ?? now) : undefined,
    lastDeadLetterAt: deadLettered > 0 ? now : prev.lastDeadLetterAt,
    lastFailureAt: failed > 0 ? now : prev.lastFailureAt,
    totals,
  };
}

export interface DeliveryHealth {
  status: "True" | "False";
  reason: "Delivering" | "EventsRejected" | "DeliveryFailing" | "Paused" | "Gone";
  message: string;
}

/**
 * The Delivering condition for (observations, forwarder state, clock): False when the destination refuses what it
 * is sent (a run of dead letters with no delivery), has failed every attempt for too long, or was halted.
 */
export function deliveryHealth(obs: DeliveryObservations, state: ForwarderStats["state"], lastError: string | undefined, now: number, deadLetterReason?: string): DeliveryHealth {
  const why = lastError ? `: ${lastError}` : "";
  if (state === "paused") return { status: "False", reason: "Paused", message: `delivery paused on an event rejected under onPermanentError=pause${why}` };
  if (state === "gone") return { status: "False", reason: "Gone", message: `the destination answered that it is gone; delivery stopped until the resource changes${why}` };
  if (obs.rejectedRun >= rejectedRunThreshold) {
    // No counts or seqs in the message: it stays the same while the run grows, so status is not rewritten for it.
    const latest = deadLetterReason ? `; latest reason: ${deadLetterReason}` : "";
    return { status: "False", reason: "EventsRejected", message: `every event since the last delivery was rejected and dead-lettered (${rejectedRunThreshold} or more)${latest}` };
  }
  if (obs.failingSince !== undefined && now - obs.failingSince > failingForMs) {
    return { status: "False", reason: "DeliveryFailing", message: `every delivery attempt has failed for ${Math.round((now - obs.failingSince) / 60_000)} min${why}` };
  }
  return { status: "True", reason: "Delivering", message: "the destination accepts the events it is sent" };
}

/** status.delivery.lastError: the latest of the last failed attempt's error and the latest dead letter's reason. */
export function latestError(obs: DeliveryObservations, failure: string | null, deadLetter: string | undefined): string | undefined {
  if (deadLetter === undefined) return failure ?? undefined;
  if (failure === null) return deadLetter;
  return (obs.lastDeadLetterAt ?? 0) >= (obs.lastFailureAt ?? 0) ? deadLetter : failure;
}
