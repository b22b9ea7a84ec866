import type { ServerResponse } from "node:http";
import { splitConcatenatedJson } from "./concatenated-json.ts";
import { sendJson, startHttpTestServer, type HttpTestServer, type RecordedRequest, type ServerTls } from "./http-test-server.ts";

/**
 * A Splunk HTTP Event Collector as protocols.md §1 describes it: `Authorization: Splunk <token>` (or Basic with the
 * token as password), reply bodies `{"text","code"}` with the documented codes, concatenated JSON envelopes,
 * partial batches (objects before an invalid one are kept, the rest dropped) and indexer acknowledgement.
 */
export interface HecToken {
  disabled?: boolean;
  /** Indexes the token may write; undefined means any. */
  indexes?: string[];
  /** Indexer acknowledgement on: every request needs a channel. */
  useAck?: boolean;
}

export interface StoredHecEvent {
  token: string;
  channel: string | undefined;
  envelope: Record<string, unknown>;
}

export interface SplunkHecServer extends HttpTestServer {
  tokens: Map<string, HecToken>;
  /** Events accepted, in order. */
  events: StoredHecEvent[];
  /** 18, 19 or 20 makes the health endpoint and ingestion report that unhealthy state. */
  unhealthyCode: 18 | 19 | 20 | undefined;
  /** Makes HEC refuse an envelope the tests pick with this code (e.g. 6), as it would a malformed one. */
  rejectEnvelope: ((envelope: Record<string, unknown>) => number | undefined) | undefined;
  /** While true, ack polls report every pending id as not yet indexed (a slow or failed indexer). */
  withholdAcks: boolean;
}

const texts: Record<number, string> = {
  0: "Success",
  1: "Token disabled",
  2: "Token is required",
  3: "Invalid authorization",
  4: "Invalid token",
  5: "No data",
  6: "Invalid data format",
  7: "Incorrect index",
  10: "Data channel is missing",
  12: "Event field is required",
  13: "Event field cannot be blank",
  15: "Error in handling indexed fields",
  17: "HEC is healthy",
  18: "HEC is unhealthy, queues are full",
  19: "HEC is unhealthy, ack service unavailable",
  20: "HEC is unhealthy, queues are full, ack service unavailable",
};

const statusOfCode: Record<number, number> = { 0: 200, 1: 403, 2: 401, 3: 401, 4: 403, 17: 200, 18: 503, 19: 503, 20: 503 };

function reply(res: ServerResponse, code: number, extra: Record<string, unknown> = {}): void {
  sendJson(res, statusOfCode[code] ?? 400, { text: texts[code], code, ...extra });
}

/** The token from `Splunk <token>` or Basic `<anything>:<token>`; a code when the header is missing or malformed. */
function tokenOf(req: RecordedRequest): { token: string } | { code: 2 | 3 } {
  const header = req.headers.authorization;
  if (header === undefined || header === "") return { code: 2 };
  const splunk = /^Splunk (\S+)$/.exec(header);
  if (splunk !== null) return { token: splunk[1]! };
  const basic = /^Basic (\S+)$/.exec(header);
  if (basic !== null) {
    const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon >= 0) return { token: decoded.slice(colon + 1) };
  }
  return { code: 3 };
}

/** The code an envelope earns, or 0 if it may be indexed. */
function envelopeCode(envelope: unknown, token: HecToken): number {
  if (envelope === null || typeof envelope !== "object" || Array.isArray(envelope)) return 6;
  const e = envelope as Record<string, unknown>;
  if (!("event" in e)) return 12;
  if (e.event === null) return 6;
  if (typeof e.event === "string" && e.event.trim() === "") return 13;
  if (e.index !== undefined && token.indexes !== undefined && !token.indexes.includes(String(e.index))) return 7;
  if (e.fields !== undefined) {
    const flat = typeof e.fields === "object" && e.fields !== null && Object.values(e.fields).every((v) => typeof v === "string" || (Array.isArray(v) && v.every((x) => typeof x === "string")));
    if (!flat) return 15;
  }
  return 0;
}

export async function startSplunkHecServer(options: { tokens?: Record<string, HecToken>; tls?: ServerTls; port?: number } = {}): Promise<SplunkHecServer> {
  const base = await startHttpTestServer({
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    port: options.port,
    notFound: (_req, res) => sendJson(res, 404, { text: "The requested URL was not found on this server.", code: 404 }),
  });
  const server: SplunkHecServer = Object.assign(base, {
    tokens: new Map(Object.entries(options.tokens ?? {})),
    events: [] as StoredHecEvent[],
    unhealthyCode: undefined as SplunkHecServer["unhealthyCode"],
    rejectEnvelope: undefined as SplunkHecServer["rejectEnvelope"],
    withholdAcks: false,
  });
  const acks = new Map<string, { next: number; pending: Set<number> }>();

  const health = (_req: RecordedRequest, res: ServerResponse) => reply(res, server.unhealthyCode ?? 17);

  const ingest = (req: RecordedRequest, res: ServerResponse) => {
    const auth = tokenOf(req);
    if ("code" in auth) return reply(res, auth.code);
    const token = server.tokens.get(auth.token);
    if (token === undefined) return reply(res, 4);
    if (token.disabled === true) return reply(res, 1);
    if (server.unhealthyCode !== undefined) return reply(res, server.unhealthyCode);
    const channel = (req.headers["x-splunk-request-channel"] as string | undefined) ?? req.query.get("channel") ?? undefined;
    if (token.useAck === true && channel === undefined) return reply(res, 10);
    const text = req.body.toString("utf8");
    if (text.trim() === "") return reply(res, 5);
    const { objects, invalidAt } = splitConcatenatedJson(text);
    for (const [i, objectText] of objects.entries()) {
      let envelope: unknown;
      try {
        envelope = JSON.parse(objectText);
      } catch {
        return reply(res, 6, { "invalid-event-number": i });
      }
      const code = envelopeCode(envelope, token) || (server.rejectEnvelope?.(envelope as Record<string, unknown>) ?? 0);
      if (code !== 0) return reply(res, code, { "invalid-event-number": i });
      server.events.push({ token: auth.token, channel, envelope: envelope as Record<string, unknown> });
    }
    if (invalidAt !== undefined) return reply(res, 6, { "invalid-event-number": invalidAt });
    if (token.useAck === true && channel !== undefined) {
      const state = acks.get(channel) ?? { next: 0, pending: new Set<number>() };
      acks.set(channel, state);
      const ackId = state.next++;
      state.pending.add(ackId);
      return reply(res, 0, { ackId });
    }
    return reply(res, 0);
  };

  /** Every pending id is reported indexed once, then forgotten, as Splunk does. */
  const ack = (req: RecordedRequest, res: ServerResponse) => {
    const channel = (req.headers["x-splunk-request-channel"] as string | undefined) ?? req.query.get("channel") ?? "";
    const ids = (JSON.parse(req.body.toString("utf8") || "{}") as { acks?: number[] }).acks ?? [];
    const state = acks.get(channel);
    const result = Object.fromEntries(ids.map((id) => [String(id), !server.withholdAcks && state?.pending.delete(id) === true]));
    sendJson(res, 200, { acks: result });
  };

  for (const path of ["/services/collector/health", "/services/collector/health/1.0"]) server.route("GET", path, health);
  for (const path of ["/services/collector/event", "/services/collector", "/services/collector/event/1.0"]) server.route("POST", path, ingest);
  server.route("POST", "/services/collector/ack", ack);
  return server;
}
