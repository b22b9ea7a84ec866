import { mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from "../../core/src/db/embedded.ts";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

let handle: EmbeddedPostgresHandle | undefined;
let dir: string | undefined;

/** One real Postgres for the whole run: DATABASE_URL when set, else an embedded server in a temp dir. */
export async function setup(project: TestProject): Promise<void> {
  if (process.env.DATABASE_URL) {
    project.provide("postgresUrl", process.env.DATABASE_URL);
    return;
  }
  // /tmp itself is world-traversable, so the unprivileged postgres user can reach the data dir.
  dir = mkdtempSync(path.join("/tmp", "trailkeeper-test-pg-"));
  handle = await startEmbeddedPostgres({
    dataDir: dir,
    settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off", max_connections: "400" },
  });
  project.provide("postgresUrl", handle.url);
}

export async function teardown(): Promise<void> {
  await handle?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
