/** The annotation that restarts a destination's delivery from a seq or a time (docs/forwarding.md). */
export const replayAnnotation = "trailkeeper.dev/replay-from";

export type ReplayRequest = { seq: number } | { time: Date };

/**
 * `seq:<n>` resends from event n (inclusive); an RFC 3339 time resends from the first event received at or after
 * it. Anything else is ignored with a warning by the caller.
 */
export function parseReplay(value: string): ReplayRequest | undefined {
  const v = value.trim();
  const seq = /^seq:(\d{1,15})$/.exec(v);
  if (seq) return { seq: Number(seq[1]) };
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(v)) {
    const t = new Date(v);
    if (!Number.isNaN(t.getTime())) return { time: t };
  }
  return undefined;
}
