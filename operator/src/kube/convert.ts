import type { KubeObject, ObjectMeta } from "./types.ts";
import { KubeApiError } from "./errors.ts";

/** Dates the client library deserialises (creationTimestamp, deletionTimestamp) become RFC 3339 text again. */
function text(value: unknown): string | undefined {
  if (value instanceof Date) return value.toISOString();
  return typeof value === "string" ? value : undefined;
}

function stringMap(value: unknown): Record<string, string> | undefined {
  if (value === null || typeof value !== "object") return undefined;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === "string"));
}

/** The metadata fields the operator uses, from a typed or plain object. */
export function plainMeta(raw: unknown): ObjectMeta {
  const m = (raw ?? {}) as Record<string, unknown>;
  return {
    name: typeof m.name === "string" ? m.name : "",
    namespace: text(m.namespace),
    uid: text(m.uid),
    resourceVersion: text(m.resourceVersion),
    generation: typeof m.generation === "number" ? m.generation : undefined,
    labels: stringMap(m.labels),
    annotations: stringMap(m.annotations),
    deletionTimestamp: text(m.deletionTimestamp),
    creationTimestamp: text(m.creationTimestamp),
  };
}

/** A plain object with normalised metadata; other top-level fields are kept as they are. */
export function plainObject<T extends KubeObject>(raw: unknown): T {
  const o = (raw ?? {}) as Record<string, unknown>;
  return { ...o, metadata: plainMeta(o.metadata) } as T;
}

/** Lease and Event times are MicroTime: the API server accepts exactly six fractional digits (Go's RFC3339Micro). */
export function microTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export function epochMs(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value !== "string") return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

interface ApiExceptionLike {
  code?: unknown;
  body?: unknown;
  message?: string;
}

/** The client library's ApiException (code, JSON body) as a KubeApiError; other errors pass through. */
export function toKubeApiError(err: unknown): unknown {
  const e = err as ApiExceptionLike;
  if (err === null || typeof err !== "object" || typeof e.code !== "number") return err;
  let status: { message?: string; reason?: string };
  try {
    status = (typeof e.body === "string" ? JSON.parse(e.body) : e.body) ?? {};
  } catch {
    // Not a Status object (a proxy's page, "the apiserver is shutting down"): its first line explains enough.
    status = { message: `HTTP ${e.code}: ${String(e.body).trim().split("\n")[0]?.slice(0, 200)}` };
  }
  return new KubeApiError(e.code, status.message ?? `HTTP ${e.code}`, status.reason);
}

export async function kubeCall<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw toKubeApiError(err);
  }
}
