import type { Tester } from "@trailkeeper/core/checks/checked-tester.ts";
import type { SecretKeyRef } from "@trailkeeper/core/crd/common.ts";
import type { EgressPolicy } from "@trailkeeper/core/net/egress.ts";
import type { SecretSource } from "@trailkeeper/core/secrets.ts";
import type { z } from "zod";
import type { CustomResource } from "../kube/types.ts";

export type ParsedSpec<S> = { ok: true; spec: S } | { ok: false; message: string };

/**
 * What distinguishes one tested kind from another; the reconcile itself (checked-resource-reconciler.ts) is shared.
 * Each kind lives in its own file beside this one.
 */
export interface CheckedKind<S> {
  kind: "LogForwardingDestination" | "RecordingStorage";
  resource: CustomResource;
  parseSpec(raw: unknown): ParsedSpec<S>;
  secretRefs(spec: S): SecretKeyRef[];
  enabled(spec: S): boolean;
  checkIntervalMs(spec: S): number;
  /** The tester's label in metrics: the destination block, or s3. */
  checkType(spec: S): string;
  /** status.type, for kinds that show one. */
  statusType(spec: S): string | undefined;
  /** status.format, for kinds that send in a chosen format. */
  statusFormat?(spec: S): string | undefined;
  /** A core Destination or the RecordingStorage S3 tester, both built by core's checkedTester. */
  tester(spec: S, deps: { secrets: SecretSource; egress: EgressPolicy }): Tester;
}

/** Validates a spec against the CRD's own zod schema (defaults applied), listing every problem in one message. */
export function parseWith<S>(schema: z.ZodType<S>, raw: unknown): ParsedSpec<S> {
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, spec: result.data };
  const problems = result.error.issues.map((i) => `spec${i.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")}: ${i.message}`);
  return { ok: false, message: problems.join("; ").slice(0, 1000) };
}
