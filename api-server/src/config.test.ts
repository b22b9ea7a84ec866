import { describe, expect, it } from "vitest";
import { ConfigError } from "@trailkeeper/core/config.ts";
import { loadApiServerConfig } from "./config.ts";

describe("API server configuration", () => {
  it("applies defaults for embedded mode", () => {
    const c = loadApiServerConfig({});
    expect(c).toMatchObject({ PORT: 8080, TRAILKEEPER_DATA_DIR: "./.data", TRAILKEEPER_CHECKPOINT_EVERY_EVENTS: 1000, TRAILKEEPER_CHECKPOINT_EVERY_SECONDS: 60 });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it("applies database and HTTP timeout defaults, and accepts 0 to turn a database limit off", () => {
    expect(loadApiServerConfig({})).toMatchObject({
      TRAILKEEPER_DB_ACQUIRE_TIMEOUT_MS: 5000, TRAILKEEPER_DB_STATEMENT_TIMEOUT_MS: 30_000, TRAILKEEPER_DB_IDLE_IN_TX_TIMEOUT_MS: 60_000,
      TRAILKEEPER_HTTP_HEADERS_TIMEOUT_MS: 10_000, TRAILKEEPER_HTTP_REQUEST_TIMEOUT_MS: 60_000, TRAILKEEPER_HTTP_KEEP_ALIVE_TIMEOUT_MS: 5000,
      TRAILKEEPER_SHUTDOWN_TIMEOUT_MS: 25_000,
    });
    expect(loadApiServerConfig({ TRAILKEEPER_DB_STATEMENT_TIMEOUT_MS: "0" }).TRAILKEEPER_DB_STATEMENT_TIMEOUT_MS).toBe(0);
  });

  it("rejects a headers timeout longer than the request timeout, and negative timeouts", () => {
    expect(() => loadApiServerConfig({ TRAILKEEPER_HTTP_HEADERS_TIMEOUT_MS: "20000", TRAILKEEPER_HTTP_REQUEST_TIMEOUT_MS: "10000" })).toThrow(/TRAILKEEPER_HTTP_HEADERS_TIMEOUT_MS/);
    expect(() => loadApiServerConfig({ TRAILKEEPER_DB_ACQUIRE_TIMEOUT_MS: "-1", TRAILKEEPER_HTTP_KEEP_ALIVE_TIMEOUT_MS: "0" })).toThrow(/TRAILKEEPER_DB_ACQUIRE_TIMEOUT_MS[\s\S]*TRAILKEEPER_HTTP_KEEP_ALIVE_TIMEOUT_MS/);
  });

  it("reports every problem at once", () => {
    let err: unknown;
    try {
      loadApiServerConfig({ PORT: "http", DATABASE_URL: "mysql://x", TRAILKEEPER_ADMIN_TOKEN: "short", LOG_LEVEL: "loud" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join("\n");
    for (const name of ["PORT", "DATABASE_URL", "TRAILKEEPER_ADMIN_TOKEN", "LOG_LEVEL"]) expect(problems).toContain(name);
  });

  it("takes a read replica URL only beside DATABASE_URL, with lag and wait defaults", () => {
    const external = { DATABASE_URL: "postgres://db/trail", TRAILKEEPER_ADMIN_TOKEN: "x".repeat(32), TRAILKEEPER_SIGNING_KEY_FILE: "/k.pem" };
    expect(loadApiServerConfig({ ...external, DATABASE_READ_URL: "postgres://replica/trail" })).toMatchObject({
      DATABASE_READ_URL: "postgres://replica/trail", TRAILKEEPER_READ_MAX_LAG_MS: 30_000, TRAILKEEPER_READ_WAIT_MS: 2000,
    });
    expect(() => loadApiServerConfig({ DATABASE_READ_URL: "postgres://replica/trail" })).toThrow(/DATABASE_READ_URL: needs DATABASE_URL/);
    expect(() => loadApiServerConfig({ ...external, DATABASE_READ_URL: "http://replica", TRAILKEEPER_READ_MAX_LAG_MS: "0", TRAILKEEPER_READ_WAIT_MS: "-1" }))
      .toThrow(/DATABASE_READ_URL[\s\S]*TRAILKEEPER_READ_MAX_LAG_MS[\s\S]*TRAILKEEPER_READ_WAIT_MS/);
  });

  it("requires the admin token and signing key with an external database", () => {
    expect(() => loadApiServerConfig({ DATABASE_URL: "postgres://db/trail" })).toThrow(/TRAILKEEPER_ADMIN_TOKEN[\s\S]*TRAILKEEPER_SIGNING_KEY_FILE/);
  });
});
