import { tmpdir } from "node:os";
import path from "node:path";
import { loadSigningKey } from "../../core/src/integrity/signing-key.ts";
import { silentLogger } from "../../core/src/log.ts";
import { apiServerConfigSchema } from "../../api-server/src/config.ts";
import { startApiServer, type RunningApiServer } from "../../api-server/src/server.ts";
import type { TestDatabase } from "./database.ts";

export const testAdminToken = "test-admin-token-0123456789abcdef0123456789";

/** The signing key shared by every API server of one test database, as replicas share one Secret. */
export async function testSigningKeyFile(db: TestDatabase): Promise<string> {
  const file = path.join(tmpdir(), `trailkeeper-test-key-${new URL(db.url).pathname.slice(1)}.pem`);
  await loadSigningKey(file, "trailkeeper.dev/audit", true);
  return file;
}

/**
 * A real API server on port 0 against a test database. Its keep-alive timeout is 1 s: close() waits for idle
 * keep-alive connections to expire (see docs/operations.md), and with a 1 s announcement fetch does not keep
 * connections at all, so closing takes no time.
 */
export async function startTestApi(db: TestDatabase, env: Record<string, string> = {}): Promise<RunningApiServer> {
  const config = apiServerConfigSchema.parse({
    PORT: "0", HOST: "127.0.0.1", DATABASE_URL: db.url, TRAILKEEPER_ADMIN_TOKEN: testAdminToken,
    TRAILKEEPER_SIGNING_KEY_FILE: await testSigningKeyFile(db), TRAILKEEPER_HTTP_KEEP_ALIVE_TIMEOUT_MS: "1000", ...env,
  });
  return startApiServer(config, silentLogger);
}

export interface Call {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
}

export async function call(base: string, method: string, path: string, opts: { token?: string; body?: unknown; raw?: string; contentType?: string } = {}): Promise<Call> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  if (body !== undefined) headers["content-type"] = opts.contentType ?? "application/json";
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Creates a tenant and an API key with the given scopes; returns the key. */
export async function tenantWithKey(base: string, tenant: string, scopes: string[]): Promise<string> {
  const t = await call(base, "POST", "/v1/admin/tenants", { token: testAdminToken, body: { id: tenant } });
  if (t.status !== 201 && t.status !== 200) throw new Error(`tenant create: ${t.status} ${JSON.stringify(t.body)}`);
  const k = await call(base, "POST", `/v1/admin/tenants/${tenant}/api-keys`, { token: testAdminToken, body: { scopes } });
  if (k.status !== 201) throw new Error(`key create: ${k.status} ${JSON.stringify(k.body)}`);
  return k.body.key as string;
}

let counter = 0;
export function sampleEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter += 1;
  return {
    actor: { id: `user-${counter % 7}`, name: `User ${counter % 7}`, type: "user" },
    action: "resource.update",
    resource: { type: "cluster", id: `c-${counter}` },
    outcome: "success",
    details: { n: counter },
    ...overrides,
  };
}
