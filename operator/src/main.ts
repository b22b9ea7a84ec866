import { ConfigError } from "@trailkeeper/core/config.ts";
import { createLogger } from "@trailkeeper/core/log.ts";
import { loadOperatorConfig } from "./config.ts";
import { startOperator } from "./operator.ts";

async function main(): Promise<void> {
  let config;
  try {
    config = loadOperatorConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL, { component: "operator", pod: config.POD_NAME });
  const operator = await startOperator(config, { logger: log });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    operator.stop().then(
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
  process.stderr.write(`trailkeeper operator failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
