import { createHash, randomBytes, randomUUID } from "node:crypto";
import { inTransaction, type Pool, type PoolClient } from "@trailkeeper/core/db/pool.ts";
import { adminActor, appendAuditEvent } from "./audit-events.ts";
import { resolveViewerSession, type SessionLookup } from "./viewer-sessions.ts";

export const scopes = ["events:write", "events:read", "events:export", "integrity:read", "viewer:create", "config:read", "config:test", "config:write"] as const;
export type Scope = (typeof scopes)[number];

export interface ApiKeyPrincipal {
  /** The actor recorded for what this principal does: the API key's id, or a console session's subject. */
  keyId: string;
  tenant: string;
  scopes: readonly Scope[];
  /** Set when the request was authenticated by a console session cookie instead of a bearer key. */
  session?: { id: string; via: "api_key" | "link" };
}

export interface ApiKeySummary {
  id: string;
  name: string | null;
  prefix: string;
  scopes: Scope[];
  createdAt: string;
  revokedAt: string | null;
}

const keyPrefix = "tk_";
export const hashKey = (key: string): string => createHash("sha256").update(key, "utf8").digest("hex");

async function recordKeyEvent(client: PoolClient, tenant: string, action: "apikey.create" | "apikey.revoke", key: { id: string; name: string | null; prefix: string; scopes: readonly string[] }) {
  await appendAuditEvent(client, tenant, {
    actor: { ...adminActor },
    action,
    resource: { type: "api_key", id: key.id, ...(key.name ? { name: key.name } : {}) },
    outcome: "success",
    details: { keyPrefix: key.prefix, scopes: [...key.scopes] },
  });
}

/** Creates a key with 256 random bits; only its hash is stored, the key itself is returned once. */
export async function createApiKey(pool: Pool, tenant: string, keyScopes: readonly Scope[], name: string | null) {
  const key = keyPrefix + randomBytes(32).toString("base64url");
  const id = randomUUID();
  const prefix = key.slice(0, 10);
  await inTransaction(pool, async (client) => {
    await client.query(
      "INSERT INTO api_keys (id, tenant, name, key_hash, key_prefix, scopes) VALUES ($1, $2, $3, $4, $5, $6)",
      [id, tenant, name, hashKey(key), prefix, keyScopes],
    );
    await recordKeyEvent(client, tenant, "apikey.create", { id, name, prefix, scopes: keyScopes });
  });
  return { id, key, scopes: [...keyScopes], name, prefix };
}

export async function listApiKeys(pool: Pool, tenant: string): Promise<ApiKeySummary[]> {
  const res = await pool.query<{ id: string; name: string | null; key_prefix: string; scopes: Scope[]; created_at: Date; revoked_at: Date | null }>(
    "SELECT id, name, key_prefix, scopes, created_at, revoked_at FROM api_keys WHERE tenant = $1 ORDER BY created_at, id",
    [tenant],
  );
  return res.rows.map((r) => ({
    id: r.id, name: r.name, prefix: r.key_prefix, scopes: r.scopes,
    createdAt: r.created_at.toISOString(), revokedAt: r.revoked_at?.toISOString() ?? null,
  }));
}

/** Revokes a key; returns false when no live key of the tenant has that id. */
export async function revokeApiKey(pool: Pool, tenant: string, id: string): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const res = await client.query<{ name: string | null; key_prefix: string; scopes: string[] }>(
      "UPDATE api_keys SET revoked_at = now() WHERE tenant = $1 AND id = $2 AND revoked_at IS NULL RETURNING name, key_prefix, scopes",
      [tenant, id],
    );
    const row = res.rows[0];
    if (!row) return false;
    await recordKeyEvent(client, tenant, "apikey.revoke", { id, name: row.name, prefix: row.key_prefix, scopes: row.scopes });
    return true;
  });
}

/**
 * Resolves a presented key to its principal. Lookups are cached briefly so that hot single-event ingest does
 * not pay a query per request; a revocation therefore takes up to `ttlMs` to reach other replicas (this
 * replica forgets the key at once).
 */
export class ApiKeyResolver {
  readonly #pool: Pool;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { principal: ApiKeyPrincipal | null; expires: number }>();

  constructor(pool: Pool, ttlMs = 5000) {
    this.#pool = pool;
    this.#ttlMs = ttlMs;
  }

  async resolve(key: string): Promise<ApiKeyPrincipal | null> {
    const h = hashKey(key);
    const hit = this.#cache.get(h);
    if (hit && hit.expires > Date.now()) return hit.principal;
    const res = await this.#pool.query<{ id: string; tenant: string; scopes: Scope[] }>(
      "SELECT id, tenant, scopes FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
      [h],
    );
    const row = res.rows[0];
    const principal = row ? { keyId: row.id, tenant: row.tenant, scopes: row.scopes } : null;
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(h, { principal, expires: Date.now() + this.#ttlMs });
    return principal;
  }

  /** Console session cookies are looked up on every request, uncached, so that a revocation takes effect at once. */
  resolveSession(token: string): Promise<SessionLookup> {
    return resolveViewerSession(this.#pool, token);
  }

  forget(keyId: string): void {
    for (const [h, v] of this.#cache) if (v.principal?.keyId === keyId) this.#cache.delete(h);
  }
}
