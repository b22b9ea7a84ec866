import { Agent, request } from "undici";
import { CheckFailure, type FailureReason } from "../checks/check-result.ts";
import type { TlsSpec } from "../crd/common.ts";
import { guardedLookup, type EgressPolicy } from "../net/egress.ts";
import { allowedHttpUrl } from "../net/http-endpoint.ts";
import { resolveTls, tlsConnectOptions, type ResolvedTls } from "../net/tls.ts";
import type { DestinationInput, DestinationKind } from "./types.ts";

export const userAgent = "trailkeeper/0.1";

/** Enough of any error or status body to explain a failure; larger bodies are cut, never buffered whole. */
const defaultMaxResponseBytes = 64 * 1024;

export interface HttpEndpoint {
  /** Base URL; request paths are appended to its path. */
  baseUrl: string;
  tls: ResolvedTls;
  allowInsecureHttp: boolean;
  egress: EgressPolicy;
  timeoutMs: number;
}

export interface HttpRequest {
  method: "GET" | "POST" | "PUT" | "HEAD" | "DELETE";
  path: string;
  /** Query parameters, added after the path is joined to the base URL. */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | Buffer;
  signal: AbortSignal;
  /** Read at most this much of the answer (default 64 KiB); a `_bulk` reply with one item per event needs more. */
  maxResponseBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface HttpClient {
  readonly baseUrl: URL;
  request(req: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

/** `base` path + `path`, keeping a proxy prefix such as https://gw.example.com/splunk/; "" is the base itself. */
export function joinUrl(base: URL, path: string): URL {
  const url = new URL(base.href);
  if (path === "") return url;
  url.pathname = `${base.pathname.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
  url.search = "";
  return url;
}

/**
 * One HTTP client per destination: an undici Agent carrying the destination's TLS trust and the egress guard on
 * every DNS lookup. Redirects are never followed (a 3xx is reported), because a redirect could lead a credential
 * somewhere the user did not configure.
 */
export function createHttpClient(endpoint: HttpEndpoint): HttpClient {
  const baseUrl = allowedHttpUrl(endpoint.baseUrl, endpoint.allowInsecureHttp, endpoint.egress);
  const agent = new Agent({
    connect: { ...tlsConnectOptions(endpoint.tls), lookup: guardedLookup(endpoint.egress), timeout: endpoint.timeoutMs },
    headersTimeout: endpoint.timeoutMs,
    bodyTimeout: endpoint.timeoutMs,
    allowH2: false,
  });
  return {
    baseUrl,
    async request(req) {
      const url = joinUrl(baseUrl, req.path);
      for (const [name, value] of Object.entries(req.query ?? {})) url.searchParams.set(name, value);
      const res = await request(url, {
        method: req.method,
        headers: { "user-agent": userAgent, ...req.headers },
        body: req.body ?? null,
        signal: req.signal,
        dispatcher: agent, // without a redirect interceptor, undici returns 3xx responses as they are
      });
      return { status: res.statusCode, headers: res.headers, text: await readCapped(res.body, req.maxResponseBytes ?? defaultMaxResponseBytes) };
    },
    close: () => agent.close(),
  };
}

/** The settings every HTTP destination block has; the URL is not among them, as Datadog derives its own. */
export interface HttpBlock {
  tls?: TlsSpec | undefined;
  allowInsecureHttp: boolean;
}

/** What of a destination's input its client needs: any kind's block that has the HTTP settings. */
export type HttpClientInput = Pick<DestinationInput<DestinationKind>, "secrets" | "egress" | "timeoutMs"> & { config: HttpBlock };

/** A destination's client, built the same way for its check and its sender. */
export function httpClientFor(input: HttpClientInput, baseUrl: string): HttpClient {
  const { config, secrets, egress, timeoutMs } = input;
  return createHttpClient({ baseUrl, tls: resolveTls(config.tls, secrets), allowInsecureHttp: config.allowInsecureHttp, egress, timeoutMs });
}

/**
 * What a destination's check and sender share, built once by the kind's `<kind>/connection.ts`: the client and the
 * headers every request carries (credentials, accept). Each request adds only its own (content-type, channel).
 */
export interface HttpConnection {
  client: HttpClient;
  headers: Readonly<Record<string, string>>;
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }, maxResponseBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= maxResponseBytes) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, maxResponseBytes).toString("utf8");
}

export function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

export const isSuccess = (status: number): boolean => status >= 200 && status < 300;

/**
 * What an HTTP status means for a connectivity check, for every HTTP destination; destinations override only what
 * their protocol defines differently (e.g. Splunk's code 5 on a 400). Whether a *delivery* is retried is a
 * different question with different answers (a 401 holds the cursor and retries), answered once by
 * core/src/forwarding/classify.ts.
 */
export function reasonForHttpStatus(status: number): "Succeeded" | FailureReason {
  if (isSuccess(status)) return "Succeeded";
  if (status === 401 || status === 403) return "InvalidCredentials";
  if (status === 404 || status === 410) return "NotFound";
  if (status === 408) return "Timeout";
  if (status === 429) return "RateLimited";
  if (status >= 500) return "ServerError";
  if (status >= 300 && status < 400) return "UnexpectedResponse";
  return "Rejected";
}

/** "HTTP 503 from https://host/path: <start of body>" — the body is the server's text, already free of our secrets. */
export function describeResponse(res: HttpResponse, url: URL): string {
  const body = res.text.replace(/\s+/g, " ").trim().slice(0, 200);
  const location = res.status >= 300 && res.status < 400 && typeof res.headers.location === "string" ? ` (redirect to ${res.headers.location} not followed)` : "";
  return `HTTP ${res.status} from ${url.origin}${url.pathname}${location}${body === "" ? "" : `: ${body}`}`;
}

/** A failure outcome for a status with no protocol-specific meaning. */
export function statusFailure(res: HttpResponse, url: URL): CheckFailure {
  const reason = reasonForHttpStatus(res.status);
  return new CheckFailure(reason === "Succeeded" ? "UnexpectedResponse" : reason, describeResponse(res, url));
}
