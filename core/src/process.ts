import os from "node:os";
import { ConfigError } from "./config.ts";
import { createLogger, type Logger, type LogLevel } from "./log.ts";

/**
 * The shape of every Trailkeeper process: parse the configuration once (exit 2 listing every problem), start,
 * and on SIGTERM/SIGINT stop gracefully (exit 0, or 1 if stopping failed). A signal during start-up, when there is
 * nothing to drain yet, exits at once with 128 + the signal number, through process.exit so that `exit` handlers
 * run (they stop an embedded PostgreSQL rather than orphan it).
 */
export function runProcess<C extends { LOG_LEVEL: LogLevel }>(opts: {
  name: string;
  loadConfig: () => C;
  logFields?: (config: C) => Record<string, unknown>;
  start: (config: C, log: Logger) => Promise<{ stop(): Promise<void> }>;
}): void {
  let config: C;
  try {
    config = opts.loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  const log = createLogger(config.LOG_LEVEL, { component: opts.name, ...opts.logFields?.(config) });
  let running: { stop(): Promise<void> } | undefined;
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    if (!running) {
      log.info("signal during start-up; exiting", { signal });
      process.exit(128 + os.constants.signals[signal]);
    }
    log.info("shutting down", { signal });
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error("shutdown failed", { err });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  opts.start(config, log).then(
    (r) => void (running = r),
    (err: unknown) => {
      process.stderr.write(`trailkeeper ${opts.name} failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
