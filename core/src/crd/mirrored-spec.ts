/**
 * The spec as the config mirror holds it (docs/api.md "Destinations and recording storages"). A spec names Secrets
 * (`…SecretRef`, `credentialsSecretRef`) but never holds a Secret value; the one place a credential can hide in it
 * is a URL's query string or fragment (a token a receiver takes there), so those are cut from every URL field, and
 * Save puts the stored URL back when the one it receives is the cut form of it (restoreRedactedUrls).
 */

export type SpecKind = "LogForwardingDestination" | "RecordingStorage";

/** Every URL field of each kind's spec, as dotted paths (core/src/crd/*.ts: the fields built on httpUrlSchema). */
export const specUrlPaths: Record<SpecKind, readonly string[]> = {
  LogForwardingDestination: ["webhook.url", "splunkHec.url", "datadog.endpoint", "elasticsearch.url"],
  RecordingStorage: ["endpoint"],
};

type Fields = Record<string, unknown>;

/** A URL without user info, query or fragment, which may carry credentials (tokens in query strings). */
export function urlWithoutCredentials(raw: unknown): string | null {
  if (typeof raw !== "string") return null;
  try {
    const url = new URL(raw);
    url.username = "";
    url.password = "";
    url.search = "";
    url.hash = "";
    return url.toString();
  } catch {
    return null;
  }
}

function parentOf(spec: Fields, path: string): { node: Fields; key: string } | undefined {
  const parts = path.split(".");
  let node: unknown = spec;
  for (const p of parts.slice(0, -1)) {
    node = node !== null && typeof node === "object" && !Array.isArray(node) ? (node as Fields)[p] : undefined;
    if (node === undefined) return undefined;
  }
  return node !== null && typeof node === "object" && !Array.isArray(node) ? { node: node as Fields, key: parts.at(-1)! } : undefined;
}

/** `raw` with nothing a credential could be in; unchanged when it has none, so the usual URL round-trips as typed. */
function cutUrl(raw: string): string {
  const cut = urlWithoutCredentials(raw);
  if (cut === null) return "";
  const url = new URL(raw);
  return url.username === "" && url.password === "" && url.search === "" && url.hash === "" ? raw : cut;
}

/**
 * A copy of `spec` fit for the mirror, and the URL paths that had something cut. A URL that does not parse is
 * emptied (it cannot be valid, and its text could be anything).
 */
export function mirroredSpec(kind: SpecKind, spec: unknown): { spec: Fields; redacted: string[] } {
  const copy = structuredClone(spec !== null && typeof spec === "object" && !Array.isArray(spec) ? (spec as Fields) : {});
  const redacted: string[] = [];
  for (const path of specUrlPaths[kind]) {
    const at = parentOf(copy, path);
    const value = at?.node[at.key];
    if (at === undefined || value === undefined) continue;
    const cut = typeof value === "string" ? cutUrl(value) : "";
    if (cut !== value) {
      at.node[at.key] = cut;
      redacted.push(path);
    }
  }
  return { spec: copy, redacted };
}

/**
 * `submitted` with each URL that is exactly the mirror's cut form of the stored one replaced by the stored one, so
 * an edit that leaves such a URL alone keeps its query string. Mutates and returns `submitted`.
 */
export function restoreRedactedUrls(kind: SpecKind, submitted: Fields, stored: unknown): Fields {
  if (stored === null || typeof stored !== "object") return submitted;
  for (const path of specUrlPaths[kind]) {
    const mine = parentOf(submitted, path);
    const theirs = parentOf(stored as Fields, path);
    const live = theirs?.node[theirs.key];
    if (mine === undefined || typeof live !== "string") continue;
    const sent = mine.node[mine.key];
    if (sent !== live && sent === cutUrl(live)) mine.node[mine.key] = live;
  }
  return submitted;
}
