import { z } from "zod";
import { withRules } from "./rules.ts";

/**
 * Durations are Go duration strings ("30s", "5m", "1h30m") because that is what Kubernetes users write and what
 * CEL's `duration()` parses; the pattern admits the subset both Go and this parser agree on.
 */
const durationPattern = /^([0-9]{1,6}(\.[0-9]{1,3})?(ms|s|m|h))+$/;
const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a duration string; throws on text the pattern rejects. */
export function parseDuration(text: string): number {
  if (!durationPattern.test(text)) throw new Error(`invalid duration ${JSON.stringify(text)}`);
  let total = 0;
  for (const m of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) {
    total += Number(m[1]) * unitMs[m[2]!]!;
  }
  return Math.round(total);
}

function isDurationWithin(text: string, minMs: number, maxMs: number): boolean {
  if (!durationPattern.test(text)) return false;
  const ms = parseDuration(text);
  return ms >= minMs && ms <= maxMs;
}

/** A duration field bounded by [min, max], validated by pattern, CEL and the same check in TypeScript. */
export function durationField(bounds: { min: string; max: string; default: string; description: string }) {
  const minMs = parseDuration(bounds.min);
  const maxMs = parseDuration(bounds.max);
  const base = z
    .string()
    .max(32)
    .regex(durationPattern, "must be a duration such as 30s, 5m or 1h30m")
    .describe(`${bounds.description} A duration such as 30s, 5m or 1h30m; from ${bounds.min} to ${bounds.max}.`);
  return withRules(base, [
    {
      rule: `duration(self) >= duration('${bounds.min}') && duration(self) <= duration('${bounds.max}')`,
      message: `must be between ${bounds.min} and ${bounds.max}`,
      holds: (v) => isDurationWithin(v, minMs, maxMs),
    },
  ]).default(bounds.default);
}
