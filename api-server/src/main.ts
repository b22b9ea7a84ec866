import { ConfigError } from "@trailkeeper/core/config.ts";
import { createLogger } from "@trailkeeper/core/log.ts";
import { loadApiServerConfig } from "./config.ts";
import { startApiServer } from "./server.ts";

async function main(): Promise<void> {
  let config;
  try {
    config = loadApiServerConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL, { component: "api-server" });
  const server = await startApiServer(config, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error("shutdown failed", { err });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`trailkeeper api-server failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
