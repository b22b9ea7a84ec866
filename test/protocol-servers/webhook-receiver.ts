import { createHmac, timingSafeEqual } from "node:crypto";
import type { ServerResponse } from "node:http";
import { sendJson, startHttpTestServer, type HttpTestServer, type RecordedRequest, type ServerTls } from "./http-test-server.ts";

/**
 * A Standard Webhooks v1.0.0 receiver (protocols.md §5) that verifies like the reference library: all three
 * headers required, timestamp within ±5 minutes, HMAC-SHA256 keyed with the base64-decoded secret over
 * `id.timestamp.body`, any of several space-separated `v1,` signatures, constant-time comparison. Written
 * independently of the sender so a signing bug cannot hide by being mirrored.
 */
export interface ReceivedWebhook {
  id: string;
  timestamp: number;
  body: string;
  payload: unknown;
  path: string;
  /** An id seen before (a retry). */
  duplicate: boolean;
}

export interface WebhookReceiver extends HttpTestServer {
  /** Verified deliveries, in arrival order. */
  received: ReceivedWebhook[];
  /** Requests refused, with why (for assertions on signature failures). */
  rejected: { path: string; why: string }[];
  /** Status for verified deliveries; default 204. Set e.g. 410, 429 or 500 to test the sender. */
  respondWith: (delivery: ReceivedWebhook) => { status: number; body?: unknown; headers?: Record<string, string> };
}

export const toleranceSeconds = 5 * 60;

function header(req: RecordedRequest, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function verify(key: Buffer, req: RecordedRequest, nowSeconds: number): { ok: true; id: string; timestamp: number } | { ok: false; why: string } {
  const id = header(req, "webhook-id");
  const ts = header(req, "webhook-timestamp");
  const signatures = header(req, "webhook-signature");
  if (id === undefined || ts === undefined || signatures === undefined) return { ok: false, why: "missing required headers" };
  if (!/^\d+$/.test(ts)) return { ok: false, why: "invalid timestamp" };
  const timestamp = Number(ts);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return { ok: false, why: "timestamp outside tolerance" };
  const expected = createHmac("sha256", key).update(Buffer.concat([Buffer.from(`${id}.${ts}.`), req.body])).digest();
  const match = signatures.split(" ").some((candidate) => {
    const [version, value] = candidate.split(",", 2);
    if (version !== "v1" || value === undefined) return false;
    const given = Buffer.from(value, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return match ? { ok: true, id, timestamp } : { ok: false, why: "no matching signature" };
}

export async function startWebhookReceiver(options: { secret: string; tls?: ServerTls; now?: () => number; port?: number }): Promise<WebhookReceiver> {
  const key = Buffer.from(options.secret.replace(/^whsec_/, ""), "base64");
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const seen = new Set<string>();
  const state = {
    received: [] as ReceivedWebhook[],
    rejected: [] as { path: string; why: string }[],
    respondWith: (() => ({ status: 204 })) as WebhookReceiver["respondWith"],
  };

  const handle = (req: RecordedRequest, res: ServerResponse) => {
    if (req.method !== "POST") return sendJson(res, 405, { error: "method not allowed" });
    const verdict = verify(key, req, now());
    if (!verdict.ok) {
      state.rejected.push({ path: req.path, why: verdict.why });
      return sendJson(res, verdict.why === "missing required headers" ? 400 : 401, { error: verdict.why });
    }
    const body = req.body.toString("utf8");
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      payload = undefined;
    }
    const delivery: ReceivedWebhook = { id: verdict.id, timestamp: verdict.timestamp, body, payload, path: req.path, duplicate: seen.has(verdict.id) };
    seen.add(verdict.id);
    state.received.push(delivery);
    const answer = state.respondWith(delivery);
    if (answer.body === undefined) {
      res.writeHead(answer.status, answer.headers ?? {});
      res.end();
    } else sendJson(res, answer.status, answer.body, answer.headers ?? {});
  };

  // Every path reaches the receiver: webhooks are configured by full URL.
  const server = await startHttpTestServer({ ...(options.tls === undefined ? {} : { tls: options.tls }), port: options.port, notFound: handle });
  return Object.defineProperties(server, {
    received: { value: state.received, enumerable: true },
    rejected: { value: state.rejected, enumerable: true },
    respondWith: { get: () => state.respondWith, set: (f: WebhookReceiver["respondWith"]) => void (state.respondWith = f), enumerable: true },
  }) as WebhookReceiver;
}
