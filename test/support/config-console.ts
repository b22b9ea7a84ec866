/**
 * Browser-test support for the Log Forwarding and Recording Storage pages: mirror rows as the operator writes
 * them (core's upsertMirror), dead letters as the forwarder stores them, and reading a connection test's stages
 * off the page the way a person reads them.
 */
import { randomUUID } from "node:crypto";
import type { Page } from "playwright-core";
import { upsertMirror, type MirrorRow } from "../../core/src/db/config-mirror.ts";
import type { Pool } from "../../core/src/db/pool.ts";

export const configScopes = ["events:read", "config:read", "config:test", "config:write"];

const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();

/** A healthy, reconciled webhook destination; override what a test needs. */
export function destinationRow(tenant: string, namespace: string, name: string, overrides: Partial<MirrorRow> = {}): MirrorRow {
  return {
    kind: "LogForwardingDestination", namespace, name, uid: randomUUID(), tenant, generation: 1, type: "webhook", enabled: true, format: "native",
    endpoint: `https://${name}.example.com/audit`, details: {},
    conditions: [
      { type: "Ready", status: "True", reason: "Succeeded", message: "the receiver accepted a signed probe", lastTransitionTime: at(30), observedGeneration: 1 },
      { type: "Delivering", status: "True", reason: "Delivering", message: "events are being delivered", lastTransitionTime: at(29), observedGeneration: 1 },
    ],
    lastCheck: { time: at(1), success: true, reason: "Succeeded", latencyMs: 42, message: "POST /audit answered 204" },
    delivery: { delivered: 10, failed: 0, deadLettered: 0, lagEvents: 0, lastDeliveredAt: at(1), cursorSeq: 10 },
    lastError: null, createdAt: at(60), managedBy: null,
    ...overrides,
  };
}

export function storageRow(tenant: string, namespace: string, name: string, overrides: Partial<MirrorRow> = {}): MirrorRow {
  return {
    kind: "RecordingStorage", namespace, name, uid: randomUUID(), tenant, generation: 1, type: "s3", enabled: true, format: null,
    endpoint: "https://minio.example.com/", details: { bucket: "recordings", region: "eu-west-1", prefix: "sessions/", forcePathStyle: true },
    conditions: [{ type: "Ready", status: "True", reason: "Succeeded", message: "wrote, read and deleted a probe object", lastTransitionTime: at(30), observedGeneration: 1 }],
    lastCheck: { time: at(2), success: true, reason: "Succeeded", latencyMs: 87 },
    delivery: null, lastError: null, createdAt: at(60), managedBy: null,
    ...overrides,
  };
}

export const mirror = (pool: Pool, row: MirrorRow) => upsertMirror(pool, row);

/** Dead letters of a destination, as the forwarder records them (seq 1…n, reasons numbered). */
export async function addDeadLetters(pool: Pool, row: MirrorRow, count: number, reason: (seq: number) => string): Promise<void> {
  const seqs = Array.from({ length: count }, (_, i) => i + 1);
  await pool.query(
    "INSERT INTO dead_letters (destination_uid, tenant, seq, event_id, reason) SELECT $1, $2, s, gen_random_uuid(), r FROM unnest($3::bigint[], $4::text[]) AS t(s, r)",
    [row.uid, row.tenant, seqs, seqs.map(reason)],
  );
}

/** Delivery samples as the config mirror records them (delivery_history), `minutesAgo` before now. */
export async function addDeliveryHistory(pool: Pool, row: MirrorRow, samples: { minutesAgo: number; delivered: number; failed: number; deadLettered: number }[]): Promise<void> {
  for (const x of samples) {
    await pool.query(
      "INSERT INTO delivery_history (uid, tenant, at, delivered, failed, dead_lettered, lag_events) VALUES ($1, $2, now() - make_interval(mins => $3), $4, $5, $6, 0)",
      [row.uid, row.tenant, x.minutesAgo, x.delivered, x.failed, x.deadLettered],
    );
  }
}

export interface ShownStage {
  name: string;
  status: string;
  detail: string;
}

/** The stages table of the latest test result, row by row. */
export async function shownStages(page: Page): Promise<ShownStage[]> {
  const table = page.getByRole("table", { name: "Test stages" });
  await table.waitFor();
  const rows = table.getByRole("row");
  const out: ShownStage[] = [];
  for (let i = 1; i < (await rows.count()); i++) {
    const cells = await rows.nth(i).locator("th, td").allInnerTexts();
    out.push({ name: cells[0]!.trim(), status: cells[1]!.replace(/^[✓✗–]\s*/, "").trim(), detail: cells[3]!.trim() });
  }
  return out;
}

/**
 * A screenshot of the whole page: the console scrolls inside <main>, not the document, so the window is made as
 * tall as main's content for the shot and put back afterwards.
 */
export async function fullScreenshot(page: Page, file: string): Promise<void> {
  const size = page.viewportSize()!;
  const height = (await page.evaluate(`document.querySelector("main").scrollHeight`)) as number;
  if (height > size.height) await page.setViewportSize({ width: size.width, height: Math.min(height, 4000) });
  await page.screenshot({ path: file });
  await page.setViewportSize(size);
}
