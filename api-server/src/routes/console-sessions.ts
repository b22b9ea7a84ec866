import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { Pool } from "@trailkeeper/core/db/pool.ts";
import { storableText } from "@trailkeeper/core/events/model.ts";
import { authenticateSession, requireScope, requireSession, sessionCookieName } from "../auth.ts";
import type { ConsoleOptions } from "../console-config.ts";
import { fieldErrors, Problem } from "../problem.ts";
import type { ApiKeyPrincipal, ApiKeyResolver } from "../services/api-keys.ts";
import {
  defaultLinkScopes, defaultLinkTtlSeconds, exchangeLink, maxLinkTtlSeconds, mintLink, recordFailedSignIn, revokedKeyOwner, signInWithKey, signOut,
  toViewerScopes, viewerScopes, type CreatedSession, type Minter, type MintedLink, type RequestOrigin, type ViewerScope, type ViewerSession,
} from "../services/viewer-sessions.ts";
import { jsonBody } from "./events.ts";

const secret = (name: string) => z.string({ message: `${name} must be a string` }).min(1).max(512);
export const apiKeySignInSchema = z.strictObject({ apiKey: secret("apiKey") });
export const linkExchangeSchema = z.strictObject({ token: secret("token") });

export const mintViewerLinkSchema = z.strictObject({
  ttlSeconds: z.number().int().min(30).max(maxLinkTtlSeconds).optional()
    .describe(`Lifetime of the link in seconds; default ${defaultLinkTtlSeconds}, at most ${maxLinkTtlSeconds}.`),
  scopes: z.array(z.enum(viewerScopes)).min(1)
    .refine((s) => new Set(s).size === s.length, "scopes must not repeat")
    .refine((s) => s.includes("events:read"), "scopes must include events:read")
    .optional()
    .describe("Scopes of the sessions made from the link; default the reading scopes the minter holds (events:read, events:export, integrity:read, config:read)."),
  subject: storableText(256)
    .optional()
    .describe("Who the link is for; recorded as the actor of the sign-in and of everything the session does."),
});
export type MintViewerLinkBody = z.output<typeof mintViewerLinkSchema>;

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body);
  if (!r.success) throw new Problem(400, "invalid_request", "the request body is not valid", fieldErrors(r.error));
  return r.data;
}

/** Every field of a mint request is optional, so a request without a body means `{}`; a body must be JSON. */
export function optionalJsonBody() {
  const json = jsonBody();
  return (req: Request, res: Response, next: (err?: unknown) => void) => {
    const empty = req.is("*/*") === null || (req.get("content-length") === "0" && !req.get("content-type"));
    if (!empty) return json(req, res, next);
    req.body = {};
    next();
  };
}

export const requestOrigin = (req: Request): RequestOrigin => ({ ip: req.ip, userAgent: req.get("user-agent") });

/**
 * Whether the browser reached us over HTTPS: TLS to this server, or a proxy's X-Forwarded-Proto. Trusting the
 * header is safe here: it only adds `Secure` (a client that forges it gets a cookie it cannot send back over
 * plain HTTP) and picks the scheme of a link handed to the minter who sent it.
 */
export function cameOverHttps(req: Request): boolean {
  return req.secure || req.get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase() === "https";
}

/** The sign-in link: the token travels in the fragment, which browsers never send to a server or in a Referer. */
export function linkUrl(req: Request, publicUrl: string | undefined, token: string): string {
  return `${publicUrl ?? `${cameOverHttps(req) ? "https" : "http"}://${req.get("host")}`}/signin#token=${token}`;
}

export const mintedLinkBody = (req: Request, publicUrl: string | undefined, link: MintedLink) => ({
  id: link.id, token: link.token, url: linkUrl(req, publicUrl, link.token), expiresAt: link.expiresAt, scopes: link.scopes,
  ...(link.subject ? { subject: link.subject } : {}),
});

/** The scopes a link gets: those asked for (each held by the minter), else every viewer scope the minter holds. */
export function linkScopes(asked: ViewerScope[] | undefined, held: readonly string[]): ViewerScope[] {
  const missing = (asked ?? []).filter((s) => !held.includes(s));
  if (missing.length) throw new Problem(403, "missing_scope", `a key cannot grant scopes it lacks: ${missing.join(", ")}`);
  const scopes = asked ?? toViewerScopes(held).filter((s) => (defaultLinkScopes as readonly string[]).includes(s));
  if (!scopes.includes("events:read")) throw new Problem(403, "missing_scope", "the API key must hold events:read to mint a viewer session");
  return scopes;
}

const sessionBody = (s: ViewerSession) => ({ id: s.id, tenant: s.tenant, scopes: s.scopes, expiresAt: s.expiresAt, csrfToken: s.csrfToken, via: s.via });

export function consoleSessionsRouter(deps: { pool: Pool; resolver: ApiKeyResolver; console: ConsoleOptions }): Router {
  const r = Router();
  const { pool, resolver } = deps;
  const { sessionTtlSeconds, publicUrl } = deps.console;

  const secureCookie = (req: Request) => deps.console.secureCookie === "true" || (deps.console.secureCookie === "auto" && cameOverHttps(req));
  const cookie = (req: Request, value: string, maxAge: number) =>
    `${sessionCookieName}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secureCookie(req) ? "; Secure" : ""}`;
  const started = (req: Request, res: Response, s: CreatedSession) => {
    const maxAge = Math.max(0, Math.floor((Date.parse(s.expiresAt) - Date.now()) / 1000));
    res.status(201).set("cache-control", "no-store").set("set-cookie", cookie(req, s.token, maxAge)).json(sessionBody(s));
  };

  r.post("/v1/console/sessions", jsonBody(), async (req, res) => {
    const { apiKey } = parseBody(apiKeySignInSchema, req.body);
    const principal = await resolver.resolve(apiKey);
    const refuse = (key: { keyId: string; tenant: string; scopes: readonly string[] }, reason: string) =>
      recordFailedSignIn(pool, key.tenant, { via: "api_key", subject: key.keyId, scopes: toViewerScopes(key.scopes), resource: { type: "api_key", id: key.keyId }, reason }, requestOrigin(req));
    if (!principal) {
      const revoked = await revokedKeyOwner(pool, apiKey);
      if (revoked) await refuse(revoked, "key_revoked");
      throw new Problem(401, "invalid_credentials", "the API key is unknown or revoked");
    }
    if (!principal.scopes.includes("events:read")) {
      await refuse(principal, "missing_scope");
      throw new Problem(403, "missing_scope", "the API key lacks the scope events:read, which the console needs");
    }
    started(req, res, await signInWithKey(pool, principal, sessionTtlSeconds, requestOrigin(req)));
  });

  r.post("/v1/console/sessions/exchange", jsonBody(), async (req, res) => {
    const { token } = parseBody(linkExchangeSchema, req.body);
    const session = await exchangeLink(pool, token, sessionTtlSeconds, requestOrigin(req));
    if (!session) throw new Problem(401, "invalid_link", "this sign-in link was already used or has expired");
    started(req, res, session);
  });

  r.get("/v1/console/session", async (req, res) => {
    await authenticateSession(resolver, req);
    res.set("cache-control", "no-store").json(sessionBody(req.viewerSession!));
  });

  r.delete("/v1/console/session", requireSession(resolver), async (req, res) => {
    await signOut(pool, req.viewerSession!, requestOrigin(req));
    res.set("set-cookie", cookie(req, "", 0)).status(204).end();
  });

  r.post("/v1/viewer-sessions", requireScope(resolver, "viewer:create"), optionalJsonBody(), async (req, res) => {
    const body = parseBody(mintViewerLinkSchema, req.body);
    const p: ApiKeyPrincipal = req.principal!;
    const minter: Minter = { kind: "key", keyId: p.keyId };
    const link = await mintLink(pool, { tenant: p.tenant, scopes: linkScopes(body.scopes, p.scopes), subject: body.subject ?? null, ttlSeconds: body.ttlSeconds ?? defaultLinkTtlSeconds, minter }, requestOrigin(req));
    res.status(201).set("cache-control", "no-store").json(mintedLinkBody(req, publicUrl, link));
  });
  return r;
}
