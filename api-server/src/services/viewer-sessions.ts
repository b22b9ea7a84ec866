import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { inTransaction, type Pool, type PoolClient } from "@trailkeeper/core/db/pool.ts";
import type { ParsedEventInput } from "@trailkeeper/core/events/model.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import { hashKey, type ApiKeyPrincipal, type Scope } from "./api-keys.ts";
import { adminActor, appendAuditEvent } from "./audit-events.ts";

/**
 * The scopes a console session can hold: reading, exporting and verifying events, and reading, testing and saving
 * forwarding configuration; never writing events or minting links or keys.
 */
export const viewerScopes = ["events:read", "events:export", "integrity:read", "config:read", "config:test", "config:write"] as const satisfies readonly Scope[];
export type ViewerScope = (typeof viewerScopes)[number];

/** What a link grants when the minter names no scopes: reading only. Testing and saving configuration must be asked for. */
export const defaultLinkScopes = ["events:read", "events:export", "integrity:read", "config:read"] as const satisfies readonly ViewerScope[];

/** Link lifetimes: 15 minutes unless asked, at most a day (a link is a bearer secret in a URL). */
export const defaultLinkTtlSeconds = 900;
export const maxLinkTtlSeconds = 86_400;

export type Via = "api_key" | "link";

/** Who signs in or mints, as recorded in the event; `ip` and `userAgent` come from the request. */
export interface RequestOrigin {
  ip?: string;
  userAgent?: string;
}

export interface ViewerSession {
  id: string;
  tenant: string;
  scopes: ViewerScope[];
  expiresAt: string;
  csrfToken: string;
  via: Via;
}

/** A created session: what the client sees plus the cookie value, which is never stored. */
export interface CreatedSession extends ViewerSession {
  token: string;
}

export type SessionLookup =
  | { status: "ok"; principal: ApiKeyPrincipal; session: ViewerSession }
  | { status: "expired" | "revoked" | "unknown" };

/** Which minter a link is recorded under: the admin token or a tenant's key holding viewer:create. */
export type Minter = { kind: "admin" } | { kind: "key"; keyId: string };

const newSecret = () => randomBytes(32).toString("base64url");

/**
 * The CSRF token is derived from the session token, so it needs no storage and can be handed out again by
 * GET /v1/console/session; knowing it reveals nothing about the HttpOnly cookie it was derived from.
 */
export const csrfTokenFor = (sessionToken: string): string =>
  createHmac("sha256", sessionToken).update("trailkeeper console csrf v1").digest("base64url");

/** Keeps only the viewer scopes, in their canonical order. */
export const toViewerScopes = (granted: readonly string[]): ViewerScope[] => viewerScopes.filter((s) => granted.includes(s));

/** Header text is Latin-1, so only the length and NUL need care before it goes into the chain. */
function originFields(origin: RequestOrigin): Pick<ParsedEventInput, "clientIp" | "userAgent"> {
  const ua = origin.userAgent?.replaceAll("\u0000", "").slice(0, 1024);
  return { ...(origin.ip ? { clientIp: origin.ip } : {}), ...(ua ? { userAgent: ua } : {}) };
}

function actorOf(via: Via, subject: string): ParsedEventInput["actor"] {
  return { id: subject, type: via === "api_key" ? "service" : "user" };
}

interface SignInRecord {
  via: Via;
  subject: string;
  scopes: readonly string[];
  outcome: "success" | "failure";
  /** The session made (success) or the credential presented (failure). */
  resource: { type: "console_session" | "api_key" | "viewer_link"; id: string };
  reason?: string;
}

async function recordSignIn(client: PoolClient, tenant: string, origin: RequestOrigin, e: SignInRecord) {
  const sessionId = e.resource.type === "console_session" ? e.resource.id : undefined;
  await appendAuditEvent(client, tenant, {
    actor: actorOf(e.via, e.subject),
    action: "audit.console.signin",
    resource: e.resource,
    outcome: e.outcome,
    ...(sessionId ? { sessionId } : {}),
    details: { via: e.via, ...(sessionId ? { sessionId } : {}), scopes: [...e.scopes], ...(e.reason ? { reason: e.reason } : {}) },
    ...originFields(origin),
  });
}

interface NewSession {
  tenant: string;
  scopes: ViewerScope[];
  via: Via;
  subject: string;
  apiKeyId?: string;
  linkId?: string;
  ttlSeconds: number;
}

/** Stores a session (its token's hash only) and records the sign-in, in the caller's transaction. */
async function insertSession(client: PoolClient, s: NewSession, origin: RequestOrigin): Promise<CreatedSession> {
  const id = randomUUID();
  const token = newSecret();
  const res = await client.query<{ expires_at: Date }>(
    `INSERT INTO viewer_sessions (id, tenant, token_hash, scopes, via, subject, api_key_id, link_id, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9)) RETURNING expires_at`,
    [id, s.tenant, hashKey(token), s.scopes, s.via, s.subject, s.apiKeyId ?? null, s.linkId ?? null, s.ttlSeconds],
  );
  await recordSignIn(client, s.tenant, origin, { via: s.via, subject: s.subject, scopes: s.scopes, outcome: "success", resource: { type: "console_session", id } });
  const expiresAt = res.rows[0]!.expires_at.toISOString();
  return { id, tenant: s.tenant, scopes: s.scopes, expiresAt, csrfToken: csrfTokenFor(token), via: s.via, token };
}

/** Signs in with an API key already resolved to `principal`; the caller has checked that it holds events:read. */
export function signInWithKey(pool: Pool, principal: ApiKeyPrincipal, ttlSeconds: number, origin: RequestOrigin): Promise<CreatedSession> {
  const session = { tenant: principal.tenant, scopes: toViewerScopes(principal.scopes), via: "api_key" as const, subject: principal.keyId, apiKeyId: principal.keyId, ttlSeconds };
  return inTransaction(pool, (c) => insertSession(c, session, origin));
}

/** Records a refused sign-in in the tenant's chain (the tenant is known: the key or link exists). */
export function recordFailedSignIn(pool: Pool, tenant: string, e: Omit<SignInRecord, "outcome">, origin: RequestOrigin): Promise<void> {
  return inTransaction(pool, (c) => recordSignIn(c, tenant, origin, { ...e, outcome: "failure" }));
}

/** The owner of a revoked API key, so that a sign-in attempt with it can be recorded in its tenant's chain. */
export async function revokedKeyOwner(pool: Pool, apiKey: string): Promise<{ keyId: string; tenant: string; scopes: string[] } | null> {
  const res = await pool.query<{ id: string; tenant: string; scopes: string[] }>(
    "SELECT id, tenant, scopes FROM api_keys WHERE key_hash = $1 AND revoked_at IS NOT NULL",
    [hashKey(apiKey)],
  );
  const row = res.rows[0];
  return row ? { keyId: row.id, tenant: row.tenant, scopes: row.scopes } : null;
}

interface LinkRow {
  id: string;
  tenant: string;
  scopes: ViewerScope[];
  subject: string | null;
  used: boolean;
  revoked: boolean;
  expired: boolean;
}

const linkSubject = (l: { id: string; subject: string | null }) => l.subject ?? `viewer-link:${l.id}`;

/**
 * Exchanges a link token for a session. The conditional UPDATE makes the token single-use even under
 * concurrent exchanges: a second one waits for the first's row lock, then no longer matches.
 * Returns null when the token is unknown, used, revoked or expired (a known link's failure is recorded).
 */
export async function exchangeLink(pool: Pool, token: string, ttlSeconds: number, origin: RequestOrigin): Promise<CreatedSession | null> {
  const hash = hashKey(token);
  const created = await inTransaction(pool, async (c) => {
    const res = await c.query<{ id: string; tenant: string; scopes: ViewerScope[]; subject: string | null }>(
      `UPDATE viewer_links SET used_at = now()
       WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
       RETURNING id, tenant, scopes, subject`,
      [hash],
    );
    const link = res.rows[0];
    if (!link) return null;
    return insertSession(c, { tenant: link.tenant, scopes: link.scopes, via: "link", subject: linkSubject(link), linkId: link.id, ttlSeconds }, origin);
  });
  if (created) return created;
  const known = await pool.query<LinkRow>(
    `SELECT id, tenant, scopes, subject, used_at IS NOT NULL AS used, revoked_at IS NOT NULL AS revoked, expires_at <= now() AS expired
     FROM viewer_links WHERE token_hash = $1`,
    [hash],
  );
  const link = known.rows[0];
  if (link) {
    const reason = link.revoked ? "link_revoked" : link.used ? "link_already_used" : "link_expired";
    await recordFailedSignIn(pool, link.tenant, { via: "link", subject: linkSubject(link), scopes: link.scopes, resource: { type: "viewer_link", id: link.id }, reason }, origin);
  }
  return null;
}

/**
 * Looks a session cookie up. A session ends when it expires, is revoked, or the API key or link it was made
 * from is revoked; the join makes each of these take effect on the next request.
 */
export async function resolveViewerSession(pool: Pool, token: string): Promise<SessionLookup> {
  const res = await pool.query<{ id: string; tenant: string; scopes: ViewerScope[]; via: Via; subject: string; expires_at: Date; revoked: boolean; expired: boolean }>(
    `SELECT s.id, s.tenant, s.scopes, s.via, s.subject, s.expires_at,
            (s.revoked_at IS NOT NULL OR k.revoked_at IS NOT NULL OR l.revoked_at IS NOT NULL) AS revoked,
            s.expires_at <= now() AS expired
     FROM viewer_sessions s
     LEFT JOIN api_keys k ON k.id = s.api_key_id
     LEFT JOIN viewer_links l ON l.id = s.link_id
     WHERE s.token_hash = $1`,
    [hashKey(token)],
  );
  const row = res.rows[0];
  if (!row) return { status: "unknown" };
  if (row.revoked) return { status: "revoked" };
  if (row.expired) return { status: "expired" };
  const session: ViewerSession = { id: row.id, tenant: row.tenant, scopes: row.scopes, expiresAt: row.expires_at.toISOString(), csrfToken: csrfTokenFor(token), via: row.via };
  return { status: "ok", session, principal: { keyId: row.subject, tenant: row.tenant, scopes: row.scopes, session: { id: row.id, via: row.via } } };
}

/** Ends a session and records the sign-out; false when it was already ended. */
export function signOut(pool: Pool, session: { id: string; tenant: string }, origin: RequestOrigin): Promise<boolean> {
  return inTransaction(pool, async (c) => {
    const res = await c.query<{ via: Via; subject: string }>(
      "UPDATE viewer_sessions SET revoked_at = now() WHERE id = $1 AND tenant = $2 AND revoked_at IS NULL RETURNING via, subject",
      [session.id, session.tenant],
    );
    const row = res.rows[0];
    if (!row) return false;
    await appendAuditEvent(c, session.tenant, {
      actor: actorOf(row.via, row.subject),
      action: "audit.console.signout",
      resource: { type: "console_session", id: session.id },
      outcome: "success",
      sessionId: session.id,
      details: { via: row.via, sessionId: session.id },
      ...originFields(origin),
    });
    return true;
  });
}

export interface MintRequest {
  tenant: string;
  scopes: ViewerScope[];
  subject: string | null;
  ttlSeconds: number;
  minter: Minter;
}

export interface MintedLink {
  id: string;
  token: string;
  expiresAt: string;
  scopes: ViewerScope[];
  subject: string | null;
}

const minterActor = (m: Minter): ParsedEventInput["actor"] => (m.kind === "admin" ? { ...adminActor } : { id: m.keyId, type: "service" });

/** Mints a one-time sign-in link; only its token's hash is stored, the token is returned once. */
export function mintLink(pool: Pool, m: MintRequest, origin: RequestOrigin): Promise<MintedLink> {
  const id = randomUUID();
  const token = newSecret();
  return inTransaction(pool, async (c) => {
    const res = await c.query<{ expires_at: Date }>(
      `INSERT INTO viewer_links (id, tenant, token_hash, scopes, subject, created_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7)) RETURNING expires_at`,
      [id, m.tenant, hashKey(token), m.scopes, m.subject, m.minter.kind === "admin" ? "admin" : m.minter.keyId, m.ttlSeconds],
    );
    const expiresAt = res.rows[0]!.expires_at.toISOString();
    await appendAuditEvent(c, m.tenant, {
      actor: minterActor(m.minter),
      action: "audit.viewer_session.create",
      resource: { type: "viewer_link", id },
      outcome: "success",
      details: { scopes: [...m.scopes], expiresAt, ...(m.subject ? { subject: m.subject } : {}) },
      ...originFields(origin),
    });
    return { id, token, expiresAt, scopes: m.scopes, subject: m.subject };
  });
}

export interface LinkSummary {
  id: string;
  scopes: ViewerScope[];
  subject: string | null;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
  revokedAt: string | null;
  /** Sessions made from the link that are still live. */
  liveSessions: number;
}

export async function listLinks(pool: Pool, tenant: string): Promise<LinkSummary[]> {
  const res = await pool.query<{ id: string; scopes: ViewerScope[]; subject: string | null; created_by: string; created_at: Date; expires_at: Date; used_at: Date | null; revoked_at: Date | null; live: number }>(
    `SELECT l.id, l.scopes, l.subject, l.created_by, l.created_at, l.expires_at, l.used_at, l.revoked_at,
            (SELECT count(*) FROM viewer_sessions s
              WHERE s.link_id = l.id AND s.revoked_at IS NULL AND l.revoked_at IS NULL AND s.expires_at > now())::int AS live
     FROM viewer_links l WHERE l.tenant = $1 ORDER BY l.created_at, l.id`,
    [tenant],
  );
  return res.rows.map((r) => ({
    id: r.id, scopes: r.scopes, subject: r.subject, createdBy: r.created_by,
    createdAt: r.created_at.toISOString(), expiresAt: r.expires_at.toISOString(),
    usedAt: r.used_at?.toISOString() ?? null, revokedAt: r.revoked_at?.toISOString() ?? null, liveSessions: r.live,
  }));
}

/** Revokes a link and every session made from it; false when the tenant has no unrevoked link with that id. */
export function revokeLink(pool: Pool, tenant: string, id: string, origin: RequestOrigin): Promise<boolean> {
  return inTransaction(pool, async (c) => {
    const res = await c.query<{ scopes: string[] }>(
      "UPDATE viewer_links SET revoked_at = now() WHERE tenant = $1 AND id = $2 AND revoked_at IS NULL RETURNING scopes",
      [tenant, id],
    );
    if (!res.rows[0]) return false;
    const sessions = await c.query("UPDATE viewer_sessions SET revoked_at = now() WHERE link_id = $1 AND revoked_at IS NULL", [id]);
    await appendAuditEvent(c, tenant, {
      actor: { ...adminActor },
      action: "audit.viewer_session.revoke",
      resource: { type: "viewer_link", id },
      outcome: "success",
      details: { scopes: res.rows[0].scopes, sessionsRevoked: sessions.rowCount ?? 0 },
      ...originFields(origin),
    });
    return true;
  });
}

/** How long ended sessions and links are kept (for the admin listing) before the clean-up deletes them. */
export const endedViewerRetentionSeconds = 86_400;
/** How often each server runs the clean-up; replicas running it at once only delete the same rows. */
export const viewerCleanupIntervalMs = 5 * 60_000;
/** Rows deleted per statement, so that a large backlog never holds many row locks for long. */
const cleanupBatch = 1000;

export interface ViewerCleanupResult {
  sessions: number;
  links: number;
}

async function deleteInBatches(pool: Pool, sql: string, retentionSeconds: number): Promise<number> {
  let total = 0;
  for (;;) {
    const res = await pool.query(sql, [retentionSeconds, cleanupBatch]);
    total += res.rowCount ?? 0;
    if ((res.rowCount ?? 0) < cleanupBatch) return total;
  }
}

/**
 * Deletes sessions and links that expired or were revoked more than `retentionSeconds` ago. They are
 * credentials, not audit records: every sign-in, mint and revocation stays in the tenant's chain. A link is
 * kept while any session made from it remains, since that session's revocation is read through the link.
 */
export async function deleteEndedViewerSessions(pool: Pool, retentionSeconds = endedViewerRetentionSeconds): Promise<ViewerCleanupResult> {
  const sessions = await deleteInBatches(pool,
    `DELETE FROM viewer_sessions WHERE id IN (
       SELECT id FROM viewer_sessions
       WHERE expires_at < now() - make_interval(secs => $1) OR revoked_at < now() - make_interval(secs => $1)
       LIMIT $2)`,
    retentionSeconds);
  const links = await deleteInBatches(pool,
    `DELETE FROM viewer_links WHERE id IN (
       SELECT l.id FROM viewer_links l
       WHERE (l.expires_at < now() - make_interval(secs => $1) OR l.revoked_at < now() - make_interval(secs => $1))
         AND NOT EXISTS (SELECT 1 FROM viewer_sessions s WHERE s.link_id = l.id)
       LIMIT $2)`,
    retentionSeconds);
  return { sessions, links };
}

/** Runs the clean-up now and then every `intervalMs`; stop() waits for a run in progress. */
export function startViewerCleanup(pool: Pool, log: Logger, intervalMs = viewerCleanupIntervalMs): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = running.then(() => deleteEndedViewerSessions(pool)).then(
      (deleted) => { if (deleted.sessions || deleted.links) log.info("ended console sessions deleted", { ...deleted }); },
      (err: unknown) => log.warn("console session clean-up failed", { err }),
    );
  };
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
