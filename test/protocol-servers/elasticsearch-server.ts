import type { ServerResponse } from "node:http";
import { handleBulk, type BulkState } from "./elasticsearch-bulk.ts";
import { sendJson, startHttpTestServer, type HttpTestServer, type RecordedRequest, type ServerTls } from "./http-test-server.ts";

/**
 * Elasticsearch's security endpoints as protocols.md §3 describes them: `ApiKey base64(id:key)` or Basic
 * credentials, `GET /` behind the `monitor` cluster privilege, `_security/_authenticate` and
 * `_security/user/_has_privileges` with privilege implication, and `_bulk` (elasticsearch-bulk.ts).
 */
export interface EsRole {
  cluster?: string[];
  indices?: { names: string[]; privileges: string[] }[];
}

export interface EsPrincipal extends EsRole {
  username: string;
  roles?: string[];
  /** "api_key" for keys, "realm" for users. */
  authenticationType: "api_key" | "realm";
  apiKey?: { id: string; name: string };
}

export interface ElasticsearchServer extends HttpTestServer, BulkState {
  /** By the encoded key (base64 of `id:key`), as sent after `ApiKey `. */
  apiKeys: Map<string, EsPrincipal>;
  users: Map<string, { password: string; principal: EsPrincipal }>;
  principalOf(req: RecordedRequest): EsPrincipal | undefined;
  hasIndexPrivilege(principal: EsPrincipal, index: string, privilege: string): boolean;
}

export const esVersion = "8.15.0";

/** Which granted privileges include a requested one (the subset of Elasticsearch's table these tests need). */
const impliedBy: Record<string, string[]> = {
  create_doc: ["create_doc", "create", "index", "write", "all"],
  create: ["create", "index", "write", "all"],
  index: ["index", "write", "all"],
  write: ["write", "all"],
  auto_configure: ["auto_configure", "create_index", "manage", "all"],
  create_index: ["create_index", "manage", "all"],
  read: ["read", "all"],
  monitor: ["monitor", "manage", "all"],
};

function matches(pattern: string, name: string): boolean {
  const regex = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  return regex.test(name);
}

function grants(granted: readonly string[], requested: string): boolean {
  return (impliedBy[requested] ?? [requested, "all"]).some((p) => granted.includes(p));
}

function securityError(res: ServerResponse, status: 401 | 403, reason: string): void {
  const error = { type: "security_exception", reason };
  const headers: Record<string, string> = status === 401 ? { "www-authenticate": 'Basic realm="security", charset="UTF-8", ApiKey' } : {};
  sendJson(res, status, { error: { root_cause: [error], ...error }, status }, headers);
}

export async function startElasticsearchServer(options: { tls?: ServerTls; port?: number } = {}): Promise<ElasticsearchServer> {
  const base = await startHttpTestServer({
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    port: options.port,
    notFound: (req, res) => {
      if (/^\/([^/]+\/)?_bulk$/.test(req.path) && (req.method === "POST" || req.method === "PUT")) return bulk(req, res);
      sendJson(res, 400, { error: `no handler found for uri [${req.path}] and method [${req.method}]` });
    },
  });
  const apiKeys = new Map<string, EsPrincipal>();
  const users = new Map<string, { password: string; principal: EsPrincipal }>();

  const principalOf = (req: RecordedRequest): EsPrincipal | undefined => {
    const header = req.headers.authorization ?? "";
    const apiKey = /^ApiKey (\S+)$/.exec(header);
    if (apiKey !== null) return apiKeys.get(apiKey[1]!);
    const basic = /^Basic (\S+)$/.exec(header);
    if (basic === null) return undefined;
    const [user, ...rest] = Buffer.from(basic[1]!, "base64").toString("utf8").split(":");
    const entry = users.get(user ?? "");
    return entry !== undefined && entry.password === rest.join(":") ? entry.principal : undefined;
  };

  const hasIndexPrivilege = (p: EsPrincipal, index: string, privilege: string) =>
    (p.indices ?? []).some((i) => i.names.some((n) => matches(n, index)) && grants(i.privileges, privilege));

  /** Runs a handler for an authenticated principal; 401 in Elasticsearch's shape otherwise. */
  const authenticated = (handler: (p: EsPrincipal, req: RecordedRequest, res: ServerResponse) => void) => (req: RecordedRequest, res: ServerResponse) => {
    if (req.headers.authorization === undefined) return securityError(res, 401, `missing authentication credentials for REST request [${req.path}]`);
    const p = principalOf(req);
    if (p === undefined) return securityError(res, 401, "unable to authenticate with provided credentials and anonymous access is not allowed for this request");
    handler(p, req, res);
  };

  const server: ElasticsearchServer = Object.assign(base, { apiKeys, users, documents: new Map(), dataStreams: new Set<string>(), failItem: undefined, bulkItemStatuses: [], principalOf, hasIndexPrivilege });
  const bulk = authenticated((p, req, res) => handleBulk(server, req, res, p, hasIndexPrivilege));

  server.route(
    "GET",
    "/",
    authenticated((p, _req, res) => {
      if (!grants(p.cluster ?? [], "monitor")) {
        return securityError(res, 403, `action [cluster:monitor/main] is unauthorized for user [${p.username}] with effective roles [${(p.roles ?? []).join(",")}], this action is granted by the cluster privileges [monitor,manage,all]`);
      }
      sendJson(res, 200, { name: "test-node", cluster_name: "trailkeeper-test", version: { number: esVersion }, tagline: "You Know, for Search" });
    }),
  );

  server.route(
    "GET",
    "/_security/_authenticate",
    authenticated((p, _req, res) => {
      const realm = p.authenticationType === "api_key" ? { name: "_es_api_key", type: "_es_api_key" } : { name: "default_native", type: "native" };
      sendJson(res, 200, {
        username: p.username,
        roles: p.roles ?? [],
        full_name: null,
        email: null,
        metadata: {},
        enabled: true,
        authentication_realm: realm,
        lookup_realm: realm,
        authentication_type: p.authenticationType,
        ...(p.apiKey === undefined ? {} : { api_key: p.apiKey }),
      });
    }),
  );

  const hasPrivileges = authenticated((p, req, res) => {
    const request = JSON.parse(req.body.toString("utf8") || "{}") as { cluster?: string[]; index?: { names: string[]; privileges: string[] }[] };
    const cluster = Object.fromEntries((request.cluster ?? []).map((c) => [c, grants(p.cluster ?? [], c)]));
    const index: Record<string, Record<string, boolean>> = {};
    for (const entry of request.index ?? []) {
      for (const name of entry.names) index[name] = Object.fromEntries(entry.privileges.map((priv) => [priv, hasIndexPrivilege(p, name, priv)]));
    }
    const all = [...Object.values(cluster), ...Object.values(index).flatMap((v) => Object.values(v))].every(Boolean);
    sendJson(res, 200, { username: p.username, has_all_requested: all, cluster, index, application: {} });
  });
  server.route("GET", "/_security/user/_has_privileges", hasPrivileges);
  server.route("POST", "/_security/user/_has_privileges", hasPrivileges);
  return server;
}

/** The encoded form of an API key, as Kibana shows it and clients send it. */
export function encodeApiKey(id: string, key: string): string {
  return Buffer.from(`${id}:${key}`).toString("base64");
}
