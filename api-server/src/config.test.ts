import { describe, expect, it } from "vitest";
import { ConfigError } from "@trailkeeper/core/config.ts";
import { loadApiServerConfig } from "./config.ts";

describe("API server configuration", () => {
  it("applies defaults for embedded mode", () => {
    const c = loadApiServerConfig({});
    expect(c).toMatchObject({ PORT: 8080, TRAILKEEPER_DATA_DIR: "./.data", TRAILKEEPER_CHECKPOINT_EVERY_EVENTS: 1000, TRAILKEEPER_CHECKPOINT_EVERY_SECONDS: 60 });
    expect(c.DATABASE_URL).toBeUndefined();
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

  it("requires the admin token and signing key with an external database", () => {
    expect(() => loadApiServerConfig({ DATABASE_URL: "postgres://db/trail" })).toThrow(/TRAILKEEPER_ADMIN_TOKEN[\s\S]*TRAILKEEPER_SIGNING_KEY_FILE/);
  });
});
