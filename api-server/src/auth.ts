import { createHash, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { Problem } from "./problem.ts";
import type { ApiKeyPrincipal, ApiKeyResolver, Scope } from "./services/api-keys.ts";
import type { ViewerSession } from "./services/viewer-sessions.ts";

declare module "express-serve-static-core" {
  interface Request {
    principal?: ApiKeyPrincipal;
    /** Set when a console session cookie authenticated the request. */
    viewerSession?: ViewerSession;
  }
}

/** The console's session cookie; its value is an opaque random token of which only the SHA-256 is stored. */
export const sessionCookieName = "tk_console";

/** The value of the console session cookie, if the request carries one. */
export function sessionCookie(req: Request): string | undefined {
  for (const part of (req.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === sessionCookieName) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

const sessionProblems = {
  unknown: new Problem(401, "no_session", "there is no console session; sign in again"),
  expired: new Problem(401, "session_expired", "the console session has expired; sign in again"),
  revoked: new Problem(401, "session_revoked", "the console session was revoked; sign in again"),
};

/** Safe methods need no CSRF token; anything else authenticated by the cookie must echo the session's. */
function checkCsrf(req: Request, session: ViewerSession): void {
  if (req.method === "GET" || req.method === "HEAD") return;
  const sent = req.get("x-csrf-token");
  if (!sent || !timingSafeEqual(digest(sent), digest(session.csrfToken))) {
    throw new Problem(403, "csrf", "a request authenticated by the console session must carry its x-csrf-token header");
  }
}

/** Authenticates the request by its console session cookie, or throws the problem the client should see. */
export async function authenticateSession(resolver: ApiKeyResolver, req: Request, token = sessionCookie(req)): Promise<ApiKeyPrincipal> {
  if (!token) throw sessionProblems.unknown;
  const found = await resolver.resolveSession(token);
  if (found.status !== "ok") throw sessionProblems[found.status];
  checkCsrf(req, found.session);
  req.viewerSession = found.session;
  req.principal = found.principal;
  return found.principal;
}

/** Console routes: a live session cookie (and the CSRF header on state-changing methods). */
export function requireSession(resolver: ApiKeyResolver) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    try {
      await authenticateSession(resolver, req);
      next();
    } catch (err) {
      next(err);
    }
  };
}

function bearer(req: Request): string | undefined {
  const h = req.get("authorization");
  const m = h?.match(/^Bearer\s+(\S+)\s*$/i);
  return m?.[1];
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Admin routes: the admin token as bearer, compared in constant time. */
export function requireAdmin(adminToken: string) {
  const expected = digest(adminToken);
  return (req: Request, _res: Response, next: NextFunction) => {
    const token = bearer(req);
    if (!token) return next(new Problem(401, "missing_credentials", "Authorization: Bearer <admin token> is required"));
    if (!timingSafeEqual(digest(token), expected)) return next(new Problem(401, "invalid_credentials", "the admin token is not valid"));
    next();
  };
}

/**
 * Tenant routes: an API key holding `scope`, or else a console session cookie with that scope; the key's or
 * session's tenant becomes the request's tenant. A bearer key wins over a cookie.
 */
export function requireScope(resolver: ApiKeyResolver, scope: Scope) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const key = bearer(req);
    const cookie = key ? undefined : sessionCookie(req);
    if (!key && !cookie) return next(new Problem(401, "missing_credentials", "Authorization: Bearer <api key> is required"));
    try {
      if (cookie) {
        const principal = await authenticateSession(resolver, req, cookie);
        if (!principal.scopes.includes(scope)) return next(new Problem(403, "missing_scope", `the console session lacks the scope ${scope}`));
        return next();
      }
      const principal = await resolver.resolve(key!);
      if (!principal) return next(new Problem(401, "invalid_credentials", "the API key is unknown or revoked"));
      if (!principal.scopes.includes(scope)) return next(new Problem(403, "missing_scope", `the API key lacks the scope ${scope}`));
      req.principal = principal;
      next();
    } catch (err) {
      next(err);
    }
  };
}
