import type { GitopsManager } from "../gitops.ts";
import type { Pool } from "./pool.ts";

export const mirroredKinds = ["LogForwardingDestination", "RecordingStorage"] as const;
export type MirroredKind = (typeof mirroredKinds)[number];

/** One mirrored resource: what the API shows of it. Never a secret value (see 0008_config_mirror.sql). */
export interface MirrorRow {
  kind: MirroredKind;
  namespace: string;
  name: string;
  uid: string;
  tenant: string;
  generation: number;
  type: string | null;
  enabled: boolean;
  format: string | null;
  endpoint: string | null;
  details: Record<string, unknown>;
  conditions: unknown[];
  lastCheck: unknown;
  delivery: unknown;
  lastError: string | null;
  createdAt: string | null;
  /** The GitOps tool that owns the resource (core/src/gitops.ts); null when it may be edited through the API. */
  managedBy: GitopsManager | null;
  /** The spec as stored, its URLs' query strings and fragments cut (core/src/crd/mirrored-spec.ts); null in rows older than 0014. */
  spec?: Record<string, unknown> | null;
  /** The spec's URL paths that had something cut. */
  specRedacted?: string[];
}

export interface MirroredResource extends MirrorRow {
  spec: Record<string, unknown> | null;
  specRedacted: string[];
  mirroredAt: string;
}

const columns = "kind, namespace, name, uid, tenant, generation, type, enabled, format, endpoint, details, conditions, last_check, delivery, last_error, created_at, managed_by, spec, spec_redacted";

export async function upsertMirror(pool: Pool, row: MirrorRow): Promise<void> {
  await pool.query(
    `INSERT INTO config_mirror (${columns}, mirrored_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, now())
     ON CONFLICT (kind, namespace, name) DO UPDATE SET uid = $4, tenant = $5, generation = $6, type = $7, enabled = $8, format = $9,
       endpoint = $10, details = $11, conditions = $12, last_check = $13, delivery = $14, last_error = $15, created_at = $16, managed_by = $17,
       spec = $18, spec_redacted = $19, mirrored_at = now()`,
    [row.kind, row.namespace, row.name, row.uid, row.tenant, row.generation, row.type, row.enabled, row.format, row.endpoint,
      JSON.stringify(row.details), JSON.stringify(row.conditions), row.lastCheck === undefined ? null : JSON.stringify(row.lastCheck),
      row.delivery === undefined ? null : JSON.stringify(row.delivery), row.lastError, row.createdAt, row.managedBy === null ? null : JSON.stringify(row.managedBy),
      row.spec == null ? null : JSON.stringify(row.spec), row.specRedacted ?? []],
  );
  await recordDeliverySample(pool, row);
}

/** Samples closer together than this add nothing to a chart and would let a flapping status fill the table. */
const sampleSpacingSeconds = 5;
/** How long delivery history is kept. */
export const deliveryHistoryRetentionDays = 7;

interface DeliveryCounters {
  delivered?: number;
  failed?: number;
  deadLettered?: number;
  lagEvents?: number;
}

/**
 * Appends a delivery sample for a mirrored destination, at most one per `sampleSpacingSeconds`, and drops its
 * samples beyond the retention in the same round trip.
 */
async function recordDeliverySample(pool: Pool, row: MirrorRow): Promise<void> {
  const d = row.delivery as DeliveryCounters | null | undefined;
  if (row.kind !== "LogForwardingDestination" || d === null || d === undefined || typeof d !== "object") return;
  await pool.query(
    `WITH pruned AS (DELETE FROM delivery_history WHERE uid = $1 AND at < now() - make_interval(days => $8))
     INSERT INTO delivery_history (uid, tenant, delivered, failed, dead_lettered, lag_events)
     SELECT $1, $2, $3, $4, $5, $6
     WHERE NOT EXISTS (SELECT 1 FROM delivery_history WHERE uid = $1 AND at > now() - make_interval(secs => $7))`,
    [row.uid, row.tenant, d.delivered ?? 0, d.failed ?? 0, d.deadLettered ?? 0, d.lagEvents ?? null, sampleSpacingSeconds, deliveryHistoryRetentionDays],
  );
}

export interface DeliverySample {
  at: string;
  delivered: number;
  failed: number;
  deadLettered: number;
  lagEvents: number | null;
}

/** A destination's delivery samples since `since`, oldest first, at most `limit` (the newest ones when more exist). */
export async function deliveryHistory(pool: Pool, uid: string, since: Date, limit = 2000): Promise<DeliverySample[]> {
  const r = await pool.query<{ at: Date; delivered: string; failed: string; dead_lettered: string; lag_events: string | null }>(
    `SELECT * FROM (SELECT at, delivered, failed, dead_lettered, lag_events FROM delivery_history WHERE uid = $1 AND at >= $2 ORDER BY at DESC LIMIT $3) s ORDER BY at`,
    [uid, since, limit],
  );
  return r.rows.map((s) => ({
    at: s.at.toISOString(), delivered: Number(s.delivered), failed: Number(s.failed), deadLettered: Number(s.dead_lettered),
    lagEvents: s.lag_events === null ? null : Number(s.lag_events),
  }));
}

export async function deleteMirror(pool: Pool, kind: MirroredKind, namespace: string, name: string): Promise<void> {
  await pool.query("DELETE FROM config_mirror WHERE kind = $1 AND namespace = $2 AND name = $3", [kind, namespace, name]);
}

/**
 * Removes the rows of `kind` that are not in `keep` (namespace/name), within one namespace or, when `namespace` is
 * undefined, everywhere: what a new leader does after a hand-over, for deletes it did not see.
 */
export async function pruneMirror(pool: Pool, kind: MirroredKind, namespace: string | undefined, keep: readonly string[]): Promise<number> {
  const r = await pool.query(
    "DELETE FROM config_mirror WHERE kind = $1 AND ($2::text IS NULL OR namespace = $2) AND NOT ((namespace || '/' || name) = ANY($3::text[]))",
    [kind, namespace ?? null, keep],
  );
  return r.rowCount ?? 0;
}

interface Row {
  kind: MirroredKind;
  namespace: string;
  name: string;
  uid: string;
  tenant: string;
  generation: string;
  type: string | null;
  enabled: boolean;
  format: string | null;
  endpoint: string | null;
  details: Record<string, unknown>;
  conditions: unknown[];
  last_check: unknown;
  delivery: unknown;
  last_error: string | null;
  created_at: Date | null;
  managed_by: GitopsManager | null;
  spec: Record<string, unknown> | null;
  spec_redacted: string[];
  mirrored_at: Date;
}

const fromRow = (r: Row): MirroredResource => ({
  kind: r.kind, namespace: r.namespace, name: r.name, uid: r.uid, tenant: r.tenant, generation: Number(r.generation), type: r.type,
  enabled: r.enabled, format: r.format, endpoint: r.endpoint, details: r.details, conditions: r.conditions, lastCheck: r.last_check,
  delivery: r.delivery, lastError: r.last_error, createdAt: r.created_at?.toISOString() ?? null, managedBy: r.managed_by ?? null,
  spec: r.spec, specRedacted: r.spec_redacted, mirroredAt: r.mirrored_at.toISOString(),
});

/** A tenant's mirrored resources of one kind, by namespace and name. */
export async function listMirror(pool: Pool, tenant: string, kind: MirroredKind): Promise<MirroredResource[]> {
  const r = await pool.query<Row>(`SELECT ${columns}, mirrored_at FROM config_mirror WHERE tenant = $1 AND kind = $2 ORDER BY namespace, name LIMIT 1000`, [tenant, kind]);
  return r.rows.map(fromRow);
}

/** One mirrored resource, only if it belongs to `tenant`. */
export async function getMirror(pool: Pool, tenant: string, kind: MirroredKind, namespace: string, name: string): Promise<MirroredResource | undefined> {
  const r = await pool.query<Row>(`SELECT ${columns}, mirrored_at FROM config_mirror WHERE tenant = $1 AND kind = $2 AND namespace = $3 AND name = $4`, [tenant, kind, namespace, name]);
  return r.rows[0] && fromRow(r.rows[0]);
}
