import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { Server as NetServer, type AddressInfo } from "node:net";
import path from "node:path";
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from "@trailkeeper/core/db/embedded.ts";
import { migrate } from "@trailkeeper/core/db/migrate.ts";
import { createPool, type Pool } from "@trailkeeper/core/db/pool.ts";
import { loadSigningKey, parseVerifierKey } from "@trailkeeper/core/integrity/signing-key.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import { createApp } from "./app.ts";
import type { ApiServerEnv } from "./config.ts";
import { consoleOptions } from "./console-config.ts";
import { kubernetesAccess } from "./kube/config.ts";
import { configTestOptions } from "./routes/config-test.ts";
import { createMetrics } from "./metrics.ts";
import { Checkpointer } from "./services/checkpointer.ts";
import { IngestBatcher } from "./services/ingest.ts";
import { RetentionJob } from "./services/retention.ts";
import { SearchIndexer } from "./services/search-indexer.ts";
import { startReadReplica } from "./services/read-replica.ts";
import { StreamingReads, streamingReadLimits } from "./services/streaming-reads.ts";
import { startViewerCleanup } from "./services/viewer-sessions.ts";

export interface RunningApiServer {
  url: string;
  pool: Pool;
  adminToken: string;
  checkpointer: Checkpointer;
  retention: RetentionJob;
  searchIndexer: SearchIndexer;
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
    // A cluster that dies (killed, crashed) is restarted on the same port; the pool reconnects by itself.
    embedded = await startEmbeddedPostgres({
      dataDir: config.TRAILKEEPER_DATA_DIR,
      restartOnExit: true,
      log: (l) => log.debug("postgres", { line: l.trim() }),
      notice: (message, fields) => log.warn(message, fields),
    });
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
  const pool = createPool(databaseUrl, {
    max: config.TRAILKEEPER_DB_POOL_SIZE,
    acquireTimeoutMs: config.TRAILKEEPER_DB_ACQUIRE_TIMEOUT_MS,
    statementTimeoutMs: config.TRAILKEEPER_DB_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.TRAILKEEPER_DB_IDLE_IN_TX_TIMEOUT_MS,
  });
  const applied = await migrateWithoutTimeouts(databaseUrl);
  if (applied.length) log.info("migrations applied", { applied });

  const metrics = createMetrics(pool);
  let appended = 0;
  const batcher = new IngestBatcher(pool, {
    committed(events, path) {
      appended += events;
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
  const retention = new RetentionJob({ pool, signer, logName: config.TRAILKEEPER_LOG_NAME, log, everySeconds: config.TRAILKEEPER_RETENTION_EVERY_SECONDS });
  retention.start();
  const searchIndexer = new SearchIndexer({
    pool, log, idleMs: config.TRAILKEEPER_SEARCH_INDEX_IDLE_MS,
    appended: () => appended, maxDeferred: config.TRAILKEEPER_SEARCH_INDEX_MAX_DEFERRED, maxDeferredMs: config.TRAILKEEPER_SEARCH_INDEX_MAX_DEFER_SECONDS * 1000,
    onLag: (events) => metrics.searchIndexLag.set(events),
    onIndexed: (events) => metrics.searchDocuments.inc(events),
  });
  searchIndexer.start();
  const viewerCleanup = startViewerCleanup(pool, log);
  const reads = await startReadReplica(config, pool, metrics.registry, log);
  let shuttingDown = false;
  const streamingReads = new StreamingReads(streamingReadLimits(config));
  const app = createApp({ pool, log, metrics, batcher, adminToken, signer, verifier, logName: config.TRAILKEEPER_LOG_NAME, isShuttingDown: () => shuttingDown, console: consoleOptions(config), streamingReads, reads, kubernetes: await kubernetesAccess(config), configTests: configTestOptions(config) });
  const server = createHttpServer(config, (req, res) => {
    // While draining, every response ends its connection, so that keep-alive clients reconnect elsewhere.
    if (shuttingDown) res.setHeader("connection", "close");
    app(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.HOST === "0.0.0.0" ? "127.0.0.1" : config.HOST}:${port}`;
  log.info("api server listening", { url });
  log.info(`console at ${config.TRAILKEEPER_PUBLIC_URL ?? url}/`, { consoleDir: path.resolve(config.TRAILKEEPER_CONSOLE_DIR) });

  return {
    url,
    pool,
    adminToken,
    checkpointer,
    retention,
    searchIndexer,
    async close() {
      shuttingDown = true;
      await drain(server, config.TRAILKEEPER_SHUTDOWN_TIMEOUT_MS, log, () => (streamingReads.cutByShutdown = true));
      // An export the drain cut is still storing its closing record (its connection closed before that): a group
      // commit, so milliseconds; the bound keeps the stop inside the pod's grace period (docs/operations.md).
      await settled(streamingReads.idle(), closingRecordsGraceMs, () => log.warn("shutdown: exports or verifications still running; closing anyway"));
      await batcher.idle();
      await checkpointer.stop();
      await retention.stop();
      await searchIndexer.stop();
      await viewerCleanup.stop();
      await reads.close();
      await pool.end();
      // The database stops last: everything above may still be writing to it.
      await embedded?.stop();
      log.info("api server stopped");
    },
  };
}

/**
 * On a connection of its own without the pool's statement timeout: a migration over a large table, or waiting for
 * another replica's migration lock, may take longer than any request should.
 */
async function migrateWithoutTimeouts(databaseUrl: string): Promise<string[]> {
  const pool = createPool(databaseUrl, 1);
  try {
    return await migrate(pool);
  } finally {
    await pool.end();
  }
}

function createHttpServer(config: ApiServerEnv, handler: Parameters<typeof createServer>[1]): Server {
  return createServer({
    headersTimeout: config.TRAILKEEPER_HTTP_HEADERS_TIMEOUT_MS,
    requestTimeout: config.TRAILKEEPER_HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.TRAILKEEPER_HTTP_KEEP_ALIVE_TIMEOUT_MS,
    // Node checks the two timeouts above on this interval (default 30 s), which would stretch a short limit.
    connectionsCheckingInterval: Math.min(1000, Math.ceil(config.TRAILKEEPER_HTTP_HEADERS_TIMEOUT_MS / 4)),
  }, handler);
}

/** How long a stop waits, after the drain, for cut exports to store their closing records. */
const closingRecordsGraceMs = 2000;

/** Waits for `done`, or `timeoutMs` at most (then calls `late`). */
async function settled(done: Promise<void>, timeoutMs: number, late: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      late();
      resolve();
    }, timeoutMs);
  });
  await Promise.race([done, timeout]);
  clearTimeout(timer);
}

/**
 * Stops accepting connections and waits until every open one has ended: in-flight requests (and their group
 * commits) finish, a request that arrives on an open keep-alive connection is still served (with
 * `Connection: close`), and an idle keep-alive connection is left to its keep-alive timeout, by which time the
 * client has stopped reusing it (it was told the timeout in `Keep-Alive`). http.Server#close would instead
 * destroy idle connections at once, racing a request the client is sending on one. After `timeoutMs` whatever
 * is left (a long export) is cut (`onCut` is told first).
 */
async function drain(server: Server, timeoutMs: number, log: Logger, onCut: () => void): Promise<void> {
  const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
  const deadline = setTimeout(() => {
    log.warn("shutdown timeout: closing the remaining connections", { timeoutMs });
    onCut();
    server.closeAllConnections();
  }, timeoutMs);
  await closed;
  clearTimeout(deadline);
  // Also stops Node's timeout-checking interval; the listener and every connection are already closed.
  server.close();
}
