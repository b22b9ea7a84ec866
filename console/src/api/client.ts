/**
 * The console's one API client. Every request is same-origin and authenticated by the `tk_console` session cookie;
 * state-changing requests carry the session's CSRF token. Failures become ApiError with the server's problem+json.
 */
import type {
  Checkpoint,
  ConfigCapabilities,
  ConnectionTestResult,
  ConsoleSession,
  DeadLetter,
  DeliverySample,
  EventPage,
  InlineSecrets,
  MirroredResource,
  ProblemDetails,
  PublicKey,
  SaveResult,
  StoredEvent,
  VerifyResult,
} from "./types.ts";
import type { EventFilters } from "../search/grammar.ts";
import { filtersToParams } from "../search/query-state.ts";

export class ApiError extends Error {
  readonly problem: ProblemDetails;
  constructor(problem: ProblemDetails) {
    super(problem.detail ?? problem.title ?? `HTTP ${problem.status}`);
    this.problem = problem;
  }
  get code(): string | undefined {
    return this.problem.code;
  }
}

/** Codes that mean the session is gone: the console returns to the sign-in page. */
export const signedOutCodes = new Set(["no_session", "session_expired", "session_revoked", "missing_credentials", "invalid_credentials"]);

let csrfToken: string | undefined;
const signedOutListeners = new Set<(e: ApiError) => void>();

/** Called when any request finds the session gone (expired, revoked, signed out elsewhere). */
export function onSignedOut(listener: (e: ApiError) => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

async function problemOf(res: Response): Promise<ProblemDetails> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as Partial<ProblemDetails>;
    if (body && typeof body === "object") return { ...body, status: res.status };
  } catch {
    /* not JSON: fall through */
  }
  return { status: res.status, title: res.statusText || "Error", detail: text.slice(0, 500) || `the server answered ${res.status}` };
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError({ status: 0, title: "Network error", detail: `the server could not be reached (${(e as Error).message})` });
  }
  if (!res.ok) {
    const err = new ApiError(await problemOf(res));
    if (res.status === 401 && !path.startsWith("/v1/console/session")) signedOutListeners.forEach((l) => l(err));
    throw err;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

function remember(session: ConsoleSession): ConsoleSession {
  csrfToken = session.csrfToken;
  return session;
}

export const api = {
  signInWithKey: async (apiKey: string) => remember(await request<ConsoleSession>("POST", "/v1/console/sessions", { apiKey })),
  exchangeLink: async (token: string) => remember(await request<ConsoleSession>("POST", "/v1/console/sessions/exchange", { token })),
  currentSession: async () => remember(await request<ConsoleSession>("GET", "/v1/console/session")),
  signOut: async () => {
    await request<void>("DELETE", "/v1/console/session");
    csrfToken = undefined;
  },
  searchEvents: (filters: EventFilters, cursor: string | null, limit: number, signal?: AbortSignal) => {
    const p = filtersToParams(filters);
    p.set("limit", String(limit));
    if (cursor) p.set("cursor", cursor);
    return request<EventPage>("GET", `/v1/events?${p}`, undefined, signal);
  },
  /** One stored event; `seq` lets a read replica that has not applied it yet defer to the primary. */
  event: (id: string, seq: number) => request<StoredEvent>("GET", `/v1/events/${encodeURIComponent(id)}?minSeq=${seq}`),
  latestCheckpoint: () => request<Checkpoint>("GET", "/v1/integrity/checkpoints/latest"),
  checkpoints: (cursor: string | null) => request<{ checkpoints: Checkpoint[]; nextCursor: string | null }>("GET", `/v1/integrity/checkpoints?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`),
  verify: () => request<VerifyResult>("GET", "/v1/integrity/verify"),
  publicKey: () => request<PublicKey>("GET", "/v1/integrity/public-key"),
  ...configApi(),
};

const seg = (s: string) => encodeURIComponent(s);
const destinationPath = (namespace: string, name: string) => `/v1/destinations/${seg(namespace)}/${seg(name)}`;

/** Log Forwarding and Recording Storage (the contract in docs/api.md): the mirror, tests, saves. */
function configApi() {
  return {
    capabilities: () => request<ConfigCapabilities>("GET", "/v1/config/capabilities"),
    destinations: () => request<{ destinations: MirroredResource[] }>("GET", "/v1/destinations"),
    destination: (namespace: string, name: string) => request<MirroredResource>("GET", destinationPath(namespace, name)),
    deadLetters: (namespace: string, name: string, cursor: string | null) =>
      request<{ deadLetters: DeadLetter[]; nextCursor: string | null }>("GET", `${destinationPath(namespace, name)}/dead-letters?limit=20${cursor ? `&cursor=${seg(cursor)}` : ""}`),
    deliveryHistory: (namespace: string, name: string) => request<{ samples: DeliverySample[] }>("GET", `${destinationPath(namespace, name)}/delivery-history`),
    testDestination: (spec: unknown, secrets: InlineSecrets) => request<ConnectionTestResult>("POST", "/v1/destinations/test", { spec, secrets }),
    /** `generation`: the one the spec was edited from; the server refuses (409 conflict) if the resource moved on. */
    saveDestination: (namespace: string, name: string, spec: unknown, secrets: InlineSecrets, generation?: number) =>
      request<SaveResult>("PUT", destinationPath(namespace, name), { spec, secrets, ...(generation === undefined ? {} : { generation }) }),
    setDestinationEnabled: (namespace: string, name: string, enabled: boolean) => request<unknown>("PATCH", destinationPath(namespace, name), { enabled }),
    replayDestination: (namespace: string, name: string, from: string) => request<unknown>("POST", `${destinationPath(namespace, name)}/replay`, { from }),
    recordingStorages: () => request<{ recordingStorages: MirroredResource[] }>("GET", "/v1/recording-storages"),
    testRecordingStorage: (spec: unknown, secrets: InlineSecrets) => request<ConnectionTestResult>("POST", "/v1/recording-storages/test", { spec, secrets }),
    saveRecordingStorage: (namespace: string, name: string, spec: unknown, secrets: InlineSecrets, generation?: number) =>
      request<SaveResult>("PUT", `/v1/recording-storages/${seg(namespace)}/${seg(name)}`, { spec, secrets, ...(generation === undefined ? {} : { generation }) }),
  };
}

/** The export URL for exactly these filters: a plain link, so the browser streams the download to disk. */
export function exportUrl(format: "csv" | "jsonl", filters: EventFilters): string {
  const p = filtersToParams(filters);
  return `/v1/events/export?format=${format}${p.size ? `&${p}` : ""}`;
}

/** Every signed checkpoint, newest first, in the shape `trailkeeper verify --checkpoint` reads. */
export async function allCheckpoints(): Promise<{ checkpoints: Checkpoint[] }> {
  const all: Checkpoint[] = [];
  let cursor: string | null = null;
  do {
    const page = await api.checkpoints(cursor);
    all.push(...page.checkpoints);
    cursor = page.nextCursor;
  } while (cursor);
  return { checkpoints: all };
}
