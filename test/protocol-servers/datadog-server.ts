import type { ServerResponse } from "node:http";
import { sendJson, startHttpTestServer, type HttpTestServer, type RecordedRequest, type ServerTls } from "./http-test-server.ts";

/**
 * Datadog's key check and Logs API v2 intake as protocols.md §2 describes them. One instance plays one site: keys
 * of another site are unknown here and get 403, like the real thing. Validate answers `{"errors":[…]}` with
 * strings; the intake answers error objects.
 */
export interface StoredDatadogLog {
  apiKey: string;
  log: Record<string, unknown>;
}

export interface DatadogServer extends HttpTestServer {
  apiKeys: Set<string>;
  logs: StoredDatadogLog[];
}

export const datadogLimits = { maxPayloadBytes: 5 * 1024 * 1024, maxEntries: 1000 } as const;

function apiKeyOf(req: RecordedRequest): string | undefined {
  const header = req.headers["dd-api-key"];
  return typeof header === "string" && header !== "" ? header : undefined;
}

function intakeError(res: ServerResponse, status: number, title: string, detail: string): void {
  sendJson(res, status, { errors: [{ status: String(status), title, detail }] });
}

export async function startDatadogServer(options: { apiKeys?: string[]; tls?: ServerTls; port?: number } = {}): Promise<DatadogServer> {
  const base = await startHttpTestServer({
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    port: options.port,
    notFound: (_req, res) => sendJson(res, 404, { errors: ["Not found"] }),
  });
  const server = Object.assign(base, { apiKeys: new Set(options.apiKeys ?? []), logs: [] as StoredDatadogLog[] });

  server.route("GET", "/api/v1/validate", (req, res) => {
    const key = apiKeyOf(req);
    if (key !== undefined && server.apiKeys.has(key)) return sendJson(res, 200, { valid: true });
    sendJson(res, 403, { errors: ["Forbidden"] });
  });

  server.route("POST", "/api/v2/logs", (req, res) => {
    const key = apiKeyOf(req);
    if (key === undefined) return intakeError(res, 401, "Unauthorized", "API key is missing");
    if (!server.apiKeys.has(key)) return intakeError(res, 403, "Forbidden", "API key is invalid");
    if (req.body.length > datadogLimits.maxPayloadBytes) return intakeError(res, 413, "Payload Too Large", "payload exceeds 5MB uncompressed");
    let payload: unknown;
    try {
      payload = JSON.parse(req.body.toString("utf8"));
    } catch {
      return intakeError(res, 400, "Bad Request", "invalid JSON");
    }
    const entries = Array.isArray(payload) ? payload : [payload];
    if (entries.length > datadogLimits.maxEntries) return intakeError(res, 400, "Bad Request", `more than ${datadogLimits.maxEntries} entries`);
    if (!entries.every((e) => e !== null && typeof e === "object" && !Array.isArray(e))) return intakeError(res, 400, "Bad Request", "each log must be an object");
    for (const log of entries) server.logs.push({ apiKey: key, log: log as Record<string, unknown> });
    sendJson(res, 202, {});
  });
  return server;
}
