import { describe, expect, it } from "vitest";
import { ConfigError } from "@trailkeeper/core/config.ts";
import { loadApiServerConfig } from "./config.ts";
import { consoleOptions, defaultConsoleDir } from "./console-config.ts";
import { consoleCsp } from "./routes/console-static.ts";

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadApiServerConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe("console settings", () => {
  it("defaults to console/dist, no framing, auto Secure cookies and 8-hour sessions", () => {
    expect(consoleOptions(loadApiServerConfig({}))).toEqual({ dir: defaultConsoleDir, frameAncestors: [], secureCookie: "auto", sessionTtlSeconds: 8 * 3600, publicUrl: undefined });
    expect(defaultConsoleDir).toMatch(/console\/dist$/);
  });

  it("parses frame ancestors separated by spaces or commas, and the session TTL as a duration", () => {
    const c = loadApiServerConfig({ TRAILKEEPER_CONSOLE_FRAME_ANCESTORS: " https://App.example.com,https://*.example.org:8443/  http://localhost:3000", TRAILKEEPER_CONSOLE_SESSION_TTL: "1h30m", TRAILKEEPER_PUBLIC_URL: "https://audit.example.com/" });
    expect(consoleOptions(c)).toMatchObject({
      frameAncestors: ["https://app.example.com", "https://*.example.org:8443", "http://localhost:3000"],
      sessionTtlSeconds: 5400,
      publicUrl: "https://audit.example.com",
    });
    expect(consoleCsp(c.TRAILKEEPER_CONSOLE_FRAME_ANCESTORS)).toMatch(/; frame-ancestors https:\/\/app\.example\.com https:\/\/\*\.example\.org:8443 http:\/\/localhost:3000$/);
  });

  it.each([
    ["an injected directive", "https://a.example.com; script-src *"],
    ["a quoted keyword", "'self'"],
    ["a path", "https://a.example.com/embed"],
    ["a bare host", "a.example.com"],
    ["another scheme", "javascript:alert(1)"],
    ["a wildcard", "*"],
  ])("rejects frame ancestors with %s", (_name, value) => {
    expect(problemsOf({ TRAILKEEPER_CONSOLE_FRAME_ANCESTORS: value }).join("\n")).toMatch(/^TRAILKEEPER_CONSOLE_FRAME_ANCESTORS: must list origins/);
  });

  it("rejects bad TTLs, cookie modes and public URLs, all at once", () => {
    const problems = problemsOf({ TRAILKEEPER_CONSOLE_SESSION_TTL: "8 hours", TRAILKEEPER_CONSOLE_SECURE_COOKIE: "yes", TRAILKEEPER_PUBLIC_URL: "ftp://x" });
    expect(problems.map((p) => p.split(":")[0])).toEqual(expect.arrayContaining(["TRAILKEEPER_CONSOLE_SESSION_TTL", "TRAILKEEPER_CONSOLE_SECURE_COOKIE", "TRAILKEEPER_PUBLIC_URL"]));
    expect(problemsOf({ TRAILKEEPER_CONSOLE_SESSION_TTL: "169h" })).toEqual(["TRAILKEEPER_CONSOLE_SESSION_TTL: must be between 1s and 168h"]);
  });
});
