import path from "node:path";
import { z } from "zod";
import { parseDuration } from "@trailkeeper/core/crd/duration.ts";

/** Where `npm run build -w @trailkeeper/console` writes the console, relative to this file. */
export const defaultConsoleDir = path.resolve(import.meta.dirname, "../../console/dist");

/**
 * An origin CSP's frame-ancestors accepts and that cannot smuggle another directive: scheme, host (optionally
 * a leading `*.` wildcard) and port, nothing else.
 */
const originPattern = /^https?:\/\/(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$/;

/** Space- or comma-separated origins allowed to frame the console; empty means none. */
export const frameAncestorsSchema = z
  .string()
  .default("")
  .transform((s) => s.split(/[\s,]+/).filter(Boolean).map((o) => o.toLowerCase().replace(/\/$/, "")))
  .refine((list) => list.every((o) => originPattern.test(o)), {
    message: "must list origins such as https://app.example.com or https://*.example.com, separated by spaces or commas",
  });

/** A duration such as 30s, 15m, 8h or 1h30m, bounded, as seconds. */
export function durationSeconds(def: string, min: string, max: string) {
  const [minS, maxS] = [parseDuration(min) / 1000, parseDuration(max) / 1000];
  return z
    .string()
    .default(def)
    .transform((text, ctx) => {
      let seconds: number;
      try {
        seconds = parseDuration(text) / 1000;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be a duration such as 30s, 15m or 8h" });
        return z.NEVER;
      }
      if (seconds < minS || seconds > maxS) ctx.addIssue({ code: "custom", message: `must be between ${min} and ${max}` });
      return seconds;
    });
}

/** The console's settings, spread into the API server's one config schema. */
export const consoleConfigShape = {
  TRAILKEEPER_CONSOLE_DIR: z.string().min(1).default(defaultConsoleDir),
  TRAILKEEPER_CONSOLE_FRAME_ANCESTORS: frameAncestorsSchema,
  TRAILKEEPER_CONSOLE_SECURE_COOKIE: z.enum(["auto", "true", "false"]).default("auto"),
  TRAILKEEPER_CONSOLE_SESSION_TTL: durationSeconds("8h", "1s", "168h"),
  TRAILKEEPER_PUBLIC_URL: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, "")).optional(),
};

export interface ConsoleOptions {
  dir: string;
  frameAncestors: string[];
  secureCookie: "auto" | "true" | "false";
  sessionTtlSeconds: number;
  /** Base of the sign-in links; unset: the request's own scheme and Host. */
  publicUrl: string | undefined;
}

type ConsoleEnv = z.output<z.ZodObject<typeof consoleConfigShape>>;

export function consoleOptions(c: ConsoleEnv): ConsoleOptions {
  return {
    dir: path.resolve(c.TRAILKEEPER_CONSOLE_DIR),
    frameAncestors: c.TRAILKEEPER_CONSOLE_FRAME_ANCESTORS,
    secureCookie: c.TRAILKEEPER_CONSOLE_SECURE_COOKIE,
    sessionTtlSeconds: c.TRAILKEEPER_CONSOLE_SESSION_TTL,
    publicUrl: c.TRAILKEEPER_PUBLIC_URL,
  };
}
