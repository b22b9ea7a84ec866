import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { call, startTestApi, tenantWithKey } from "../../support/api.ts";

const strictCsp =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const indexHtml = '<!doctype html><html><head><script type="module" src="/assets/app-3f9a1c.js"></script></head><body>console</body></html>';
const script = "console.log('app');";

let db: TestDatabase;
let dist: string;
let api: RunningApiServer;
let framed: RunningApiServer;
let unbuilt: RunningApiServer;

beforeAll(async () => {
  db = await freshDatabase();
  // A tiny stand-in for console/dist, so these tests do not depend on the real build.
  dist = await mkdtemp(path.join(tmpdir(), "tk-console-dist-"));
  await mkdir(path.join(dist, "assets"));
  await writeFile(path.join(dist, "index.html"), indexHtml);
  await writeFile(path.join(dist, "assets", "app-3f9a1c.js"), script);
  await writeFile(path.join(dist, "favicon.svg"), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(path.join(dist, ".env"), "SECRET=1");
  api = await startTestApi(db, { TRAILKEEPER_CONSOLE_DIR: dist });
  framed = await startTestApi(db, { TRAILKEEPER_CONSOLE_DIR: dist, TRAILKEEPER_CONSOLE_FRAME_ANCESTORS: "https://app.example.com, https://*.example.org/" });
  unbuilt = await startTestApi(db, { TRAILKEEPER_CONSOLE_DIR: path.join(dist, "missing") });
});
afterAll(async () => {
  await Promise.all([api?.close(), framed?.close(), unbuilt?.close()]);
  await db?.drop();
  if (dist) await rm(dist, { recursive: true, force: true });
});

const get = (base: string, p: string, headers: Record<string, string> = {}) => fetch(base + p, { headers });

describe("the console is served at /", () => {
  it("answers / with index.html, the strict CSP and no caching", async () => {
    const res = await get(api.url, "/", { accept: "text/html" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toBe(indexHtml);
    expect(res.headers.get("content-security-policy")).toBe(strictCsp);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("cache-control")).toBe("no-cache");
  });

  it("answers every other page path with index.html (SPA fallback)", async () => {
    for (const p of ["/signin", "/audit-logs", "/audit-logs/deep/path?q=action:auth.*", "/integrity", "/index.html"]) {
      const res = await get(api.url, p);
      expect(res.status, p).toBe(200);
      expect(await res.text(), p).toBe(indexHtml);
      expect(res.headers.get("content-security-policy"), p).toBe(strictCsp);
      expect(res.headers.get("cache-control"), p).toBe("no-cache");
    }
  });

  it("serves content-hashed assets with a year of immutable caching", async () => {
    const res = await get(api.url, "/assets/app-3f9a1c.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^(text|application)\/javascript/);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("content-security-policy")).toBe(strictCsp);
    expect(await res.text()).toBe(script);
  });

  it("answers a missing asset with 404, never with index.html", async () => {
    const res = await get(api.url, "/assets/app-000000.js");
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain("<html");
  });

  it("serves other built files at the root, but no dotfiles and nothing outside the dist dir", async () => {
    const icon = await get(api.url, "/favicon.svg");
    expect(icon.status).toBe(200);
    expect(icon.headers.get("content-type")).toMatch(/^image\/svg\+xml/);
    for (const p of ["/.env", "/..%2f..%2fetc%2fpasswd", "/assets/..%2f..%2f..%2fetc%2fpasswd"]) {
      const res = await get(api.url, p);
      const text = await res.text();
      expect(text, p).not.toContain("SECRET");
      expect(text, p).not.toContain("root:");
    }
  });

  it("answers HEAD like GET without a body", async () => {
    const res = await fetch(`${api.url}/audit-logs`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toBe(strictCsp);
  });
});

describe("the API is unaffected", () => {
  it("keeps /v1, /healthz and /metrics as they were, without the console's headers", async () => {
    const unknown = await call(api.url, "GET", "/v1/nothing-here");
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(unknown.body.code).toBe("not_found");
    expect(unknown.headers.get("content-security-policy")).toBeNull();
    expect((await call(api.url, "GET", "/v1")).status).toBe(404);
    expect((await call(api.url, "GET", "/v1/events")).body.code).toBe("missing_credentials");
    expect((await call(api.url, "GET", "/healthz")).status).toBe(200);
    const metrics = await get(api.url, "/metrics");
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain("# HELP");
    const key = await tenantWithKey(api.url, "static-t", ["events:read"]);
    const events = await call(api.url, "GET", "/v1/events", { token: key });
    expect(events.status).toBe(200);
    expect(events.headers.get("content-security-policy")).toBeNull();
  });

  it("answers non-GET requests to console paths with the API's 404 problem", async () => {
    const res = await call(api.url, "POST", "/audit-logs", { body: {} });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe("not_found");
  });
});

describe("framing", () => {
  it("allows only the origins of TRAILKEEPER_CONSOLE_FRAME_ANCESTORS, and drops X-Frame-Options then", async () => {
    const res = await get(framed.url, "/");
    expect(res.headers.get("content-security-policy")).toBe(strictCsp.replace("frame-ancestors 'none'", "frame-ancestors https://app.example.com https://*.example.org"));
    expect(res.headers.get("x-frame-options")).toBeNull();
  });
});

describe("a console that is not built", () => {
  it("answers browsers with a 503 page naming the build command", async () => {
    const res = await get(unbuilt.url, "/audit-logs", { accept: "text/html,application/xhtml+xml" });
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toBe(strictCsp);
    expect(await res.text()).toContain("npm run build -w @trailkeeper/console");
  });

  it("answers other clients with a 503 problem", async () => {
    const res = await call(unbuilt.url, "GET", "/");
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe("console_not_built");
    expect(res.body.detail).toContain("npm run build -w @trailkeeper/console");
  });

  it("still serves the API", async () => {
    expect((await call(unbuilt.url, "GET", "/healthz")).status).toBe(200);
  });
});
