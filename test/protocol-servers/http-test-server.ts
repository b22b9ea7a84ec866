import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { gunzipSync, inflateSync } from "node:zlib";

/** One request as the server saw it, body decoded from gzip/deflate when the client compressed it. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  body: Buffer;
  receivedAt: Date;
}

export type RouteHandler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface ServerTls {
  cert: Buffer;
  key: Buffer;
  /** Trust anchors for client certificates; with it the server asks for one. */
  ca?: Buffer;
  requireClientCert?: boolean;
}

/** A canned answer given instead of the protocol's, e.g. a 429 with Retry-After or a 503. */
export interface CannedAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface HttpTestServerOptions {
  tls?: ServerTls;
  notFound?: RouteHandler;
  /** Listen on this port (e.g. to come back on the same port after `close()`); default: a free one. */
  port?: number;
}

export interface HttpTestServer {
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order (also those no route handled). */
  readonly requests: RecordedRequest[];
  /** Adds or replaces a route; later issues add e.g. `POST /_bulk` this way. */
  route(method: string, path: string, handler: RouteHandler): void;
  /** Delay every answer, e.g. longer than a client timeout. */
  delayMs: number;
  /** Answer the next requests (one each, in order) with these instead of the protocol's answer; they are recorded all the same. */
  answerNext(...answers: CannedAnswer[]): void;
  close(): Promise<void>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=UTF-8", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function decode(raw: Buffer, encoding: string | undefined): Buffer {
  if (encoding === "gzip") return gunzipSync(raw);
  if (encoding === "deflate") return inflateSync(raw);
  return raw;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A plain node:http(s) server on 127.0.0.1 and a free port, with a route table keyed by "METHOD path". Protocol
 * servers build on it; they decide status codes and bodies, this only records and dispatches.
 */
export async function startHttpTestServer(options: HttpTestServerOptions = {}): Promise<HttpTestServer> {
  const routes = new Map<string, RouteHandler>();
  const requests: RecordedRequest[] = [];
  const state = { delayMs: 0 };
  const canned: CannedAnswer[] = [];
  const notFound: RouteHandler = options.notFound ?? ((_req, res) => sendJson(res, 404, { error: "not found" }));

  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://test");
    const rawBody = await readBody(req);
    let body: Buffer;
    try {
      body = decode(rawBody, req.headers["content-encoding"]);
    } catch {
      body = rawBody;
    }
    const recorded: RecordedRequest = { method: req.method ?? "GET", path: url.pathname, query: url.searchParams, headers: req.headers, rawBody, body, receivedAt: new Date() };
    requests.push(recorded);
    if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs));
    if (res.destroyed) return;
    const answer = canned.shift();
    if (answer !== undefined) {
      if (answer.body === undefined) res.writeHead(answer.status, answer.headers ?? {}).end();
      else sendJson(res, answer.status, answer.body, answer.headers ?? {});
      return;
    }
    const handler = routes.get(`${recorded.method} ${recorded.path}`) ?? notFound;
    try {
      await handler(recorded, res);
    } catch (err) {
      if (!res.headersSent) sendJson(res, 500, { error: String(err) });
    }
  };

  const tls = options.tls;
  const server: Server =
    tls === undefined
      ? createHttpServer(listener)
      : createHttpsServer({ cert: tls.cert, key: tls.key, ...(tls.ca === undefined ? {} : { ca: tls.ca, requestCert: true, rejectUnauthorized: tls.requireClientCert ?? true }) }, listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `${tls === undefined ? "http" : "https"}://127.0.0.1:${port}`,
    port,
    requests,
    route: (method, path, handler) => void routes.set(`${method} ${path}`, handler),
    answerNext: (...answers) => void canned.push(...answers),
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms: number) {
      state.delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
