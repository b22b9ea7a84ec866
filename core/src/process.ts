import { ConfigError } from "./config.ts";
import { createLogger, type Logger, type LogLevel } from "./log.ts";

/**
 * The shape of every Trailkeeper process: parse the configuration once (exit 2 listing every problem), start,
 * and on SIGTERM/SIGINT stop gracefully (exit 0, or 1 if stopping failed).
 */
export function runProcess<C extends { LOG_LEVEL: LogLevel }>(opts: {
  name: string;
  loadConfig: () => C;
  logFields?: (config: C) => Record<string, unknown>;
  start: (config: C, log: Logger) => Promise<{ stop(): Promise<void> }>;
}): void {
  const main = async () => {
    let config: C;
    try {
      config = opts.loadConfig();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    const log = createLogger(config.LOG_LEVEL, { component: opts.name, ...opts.logFields?.(config) });
    const running = await opts.start(config, log);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
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
  };
  main().catch((err: unknown) => {
    process.stderr.write(`trailkeeper ${opts.name} failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
