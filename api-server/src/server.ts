import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from "@trailkeeper/core/db/embedded.ts";
import { migrate } from "@trailkeeper/core/db/migrate.ts";
import { createPool, type Pool } from "@trailkeeper/core/db/pool.ts";
import { loadSigningKey, parseVerifierKey } from "@trailkeeper/core/integrity/signing-key.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import { createApp } from "./app.ts";
import type { ApiServerEnv } from "./config.ts";
import { createMetrics } from "./metrics.ts";
import { Checkpointer } from "./services/checkpointer.ts";
import { IngestBatcher } from "./services/ingest.ts";

export interface RunningApiServer {
  url: string;
  pool: Pool;
  adminToken: string;
  checkpointer: Checkpointer;
  close(): Promise<void>;
}

/** In embedded mode an unset admin token is generated once, kept in the data dir and printed once. */
async function resolveAdminToken(config: ApiServerEnv, log: Logger): Promise<string> {
  if (config.TRAILKEEPER_ADMIN_TOKEN) return config.TRAILKEEPER_ADMIN_TOKEN;
  const file = path.resolve(config.TRAILKEEPER_DATA_DIR, "admin-token");
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const token = `tka_${randomBytes(32).toString("base64url")}`;
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  log.info("generated admin token (shown once; also saved in the data dir)", { file });
  process.stderr.write(`\nTrailkeeper admin token (shown once): ${token}\n\n`);
  return token;
}

export async function startApiServer(config: ApiServerEnv, log: Logger): Promise<RunningApiServer> {
  let embedded: EmbeddedPostgresHandle | undefined;
  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({ dataDir: config.TRAILKEEPER_DATA_DIR, log: (l) => log.debug("postgres", { line: l.trim() }) });
    databaseUrl = embedded.url;
    log.info("embedded postgres started", { dataDir: path.resolve(config.TRAILKEEPER_DATA_DIR) });
  }
  const adminToken = await resolveAdminToken(config, log);
  // Embedded mode keeps a generated key in the data dir; with DATABASE_URL the key file is required.
  const signer = await loadSigningKey(
    config.TRAILKEEPER_SIGNING_KEY_FILE ?? path.resolve(config.TRAILKEEPER_DATA_DIR, "signing-key.pem"),
    config.TRAILKEEPER_LOG_NAME,
    !config.DATABASE_URL,
  );
  const verifier = parseVerifierKey(signer.vkey);
  const pool = createPool(databaseUrl, config.TRAILKEEPER_DB_POOL_SIZE);
  const applied = await migrate(pool);
  if (applied.length) log.info("migrations applied", { applied });

  const metrics = createMetrics(pool);
  const batcher = new IngestBatcher(pool, {
    committed(events, path) {
      metrics.eventsAppended.inc(events);
      metrics.batchSize.observe(events);
      metrics.appendPaths.inc({ path });
    },
  });
  const checkpointer = new Checkpointer({
    pool, signer, logName: config.TRAILKEEPER_LOG_NAME, log,
    policy: { everyEvents: config.TRAILKEEPER_CHECKPOINT_EVERY_EVENTS, everySeconds: config.TRAILKEEPER_CHECKPOINT_EVERY_SECONDS },
  });
  checkpointer.start();
  let shuttingDown = false;
  const app = createApp({ pool, log, metrics, batcher, adminToken, signer, verifier, logName: config.TRAILKEEPER_LOG_NAME, isShuttingDown: () => shuttingDown });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(config.PORT, config.HOST, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.HOST === "0.0.0.0" ? "127.0.0.1" : config.HOST}:${port}`;
  log.info("api server listening", { url });

  return {
    url,
    pool,
    adminToken,
    checkpointer,
    async close() {
      shuttingDown = true;
      // Stop accepting, let in-flight requests and their group commits finish, then release the database.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await batcher.idle();
      await closed;
      await checkpointer.stop();
      await pool.end();
      await embedded?.stop();
      log.info("api server stopped");
    },
  };
}
