import { createHash, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { Problem } from "./problem.ts";
import type { ApiKeyPrincipal, ApiKeyResolver, Scope } from "./services/api-keys.ts";

declare module "express-serve-static-core" {
  interface Request {
    principal?: ApiKeyPrincipal;
  }
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

/** Tenant routes: an API key holding `scope`; the key's tenant becomes the request's tenant. */
export function requireScope(resolver: ApiKeyResolver, scope: Scope) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const key = bearer(req);
    if (!key) return next(new Problem(401, "missing_credentials", "Authorization: Bearer <api key> is required"));
    try {
      const principal = await resolver.resolve(key);
      if (!principal) return next(new Problem(401, "invalid_credentials", "the API key is unknown or revoked"));
      if (!principal.scopes.includes(scope)) return next(new Problem(403, "missing_scope", `the API key lacks the scope ${scope}`));
      req.principal = principal;
      next();
    } catch (err) {
      next(err);
    }
  };
}
