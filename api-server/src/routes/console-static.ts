import path from "node:path";
import express, { Router, type NextFunction, type Request, type Response } from "express";
import type { ConsoleOptions } from "../console-config.ts";
import { Problem, sendProblem } from "../problem.ts";

/** Paths that belong to the API and operations, never to the console. */
const apiPath = /^\/(v1(\/|$)|healthz$|readyz$|metrics$)/;
const assetPath = /^\/assets\//;

/** The console's Content-Security-Policy: everything from this origin only, nothing inline, nothing eval'd. */
export function consoleCsp(frameAncestors: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors.length ? frameAncestors.join(" ") : "'none'"}`,
  ].join("; ");
}

function securityHeaders(frameAncestors: readonly string[]) {
  const csp = consoleCsp(frameAncestors);
  return (res: Response) => {
    res.set("content-security-policy", csp);
    res.set("x-content-type-options", "nosniff");
    res.set("referrer-policy", "no-referrer");
    // Old browsers ignore frame-ancestors; X-Frame-Options cannot list origins, so it is only sent for "none".
    if (frameAncestors.length === 0) res.set("x-frame-options", "DENY");
  };
}

const notBuiltDetail = "the console is not built: run `npm run build -w @trailkeeper/console` (or `make start`, which builds it when needed)";
const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Trailkeeper console not built</title></head>
<body><h1>The Trailkeeper console is not built</h1>
<p>Run <code>npm run build -w @trailkeeper/console</code> (or <code>make start</code>, which builds it when needed), then reload.</p>
<p>The API is available under <code>/v1</code>.</p></body></html>
`;

/** 503 for a missing build: an HTML page for browsers, a problem for everything else. */
function sendNotBuilt(req: Request, res: Response): void {
  if ((req.get("accept") ?? "").includes("text/html")) {
    res.status(503).type("html").set("cache-control", "no-store").send(notBuiltPage);
    return;
  }
  sendProblem(res, new Problem(503, "console_not_built", notBuiltDetail));
}

/**
 * Serves the built console (console/dist): content-hashed files under /assets/ cached for a year, every
 * other GET that is not an API path answered with index.html (the SPA routes itself), never cached.
 * Mounted after the API routers, so an unknown /v1 path still gets the API's 404 problem.
 */
export function consoleStaticRouter(opts: Pick<ConsoleOptions, "dir" | "frameAncestors">): Router {
  const r = Router();
  const secure = securityHeaders(opts.frameAncestors);
  const index = path.join(opts.dir, "index.html");
  const noCache = (res: Response) => res.set("cache-control", "no-cache");
  // Both see the whole path (they are not mounted), so both are rooted at the dist dir.
  const assets = express.static(opts.dir, { immutable: true, maxAge: "365d", index: false, redirect: false, dotfiles: "ignore" });
  const rootFiles = express.static(opts.dir, { index: false, redirect: false, dotfiles: "ignore", cacheControl: false, setHeaders: noCache });

  r.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== "GET" && req.method !== "HEAD") || apiPath.test(req.path)) return next();
    secure(res);
    // An asset that is not there is a 404, never index.html: a stale page must not get HTML for a script.
    if (assetPath.test(req.path)) return assets(req, res, next);
    rootFiles(req, res, () => {
      noCache(res);
      res.sendFile(index, (err?: NodeJS.ErrnoException) => {
        if (!err) return;
        if (err.code === "ENOENT" && !res.headersSent) return sendNotBuilt(req, res);
        if (!res.headersSent) next(err);
      });
    });
  });
  return r;
}
