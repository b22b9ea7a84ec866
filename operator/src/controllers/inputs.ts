import type { CheckResult } from "@trailkeeper/core/checks/check-result.ts";
import type { SecretKeyRef } from "@trailkeeper/core/crd/common.ts";
import { secretNames } from "@trailkeeper/core/crd/secret-refs.ts";
import { secretSourceFrom, type SecretSource } from "@trailkeeper/core/secrets.ts";
import { tenantForNamespace } from "@trailkeeper/core/tenancy.ts";
import type { NamespaceObject, SecretObject } from "../kube/types.ts";
import type { BlockedReason } from "./status.ts";

export type Resolution<T> = ({ ok: true } & T) | { ok: false; reason: BlockedReason; message: string };

export type ResolvedSecrets = Resolution<{
  source: SecretSource;
  /** resourceVersion per referenced Secret: a change means the check must run again. */
  versions: Record<string, string>;
}>;

/**
 * Reads every Secret the spec references, in the resource's own namespace, and decodes the referenced keys.
 * Secrets are read when needed rather than cached, so the operator holds no Secret values between checks.
 */
export async function resolveSecrets(read: (name: string) => Promise<SecretObject | undefined>, refs: readonly SecretKeyRef[]): Promise<ResolvedSecrets> {
  const names = secretNames(refs);
  const secrets = new Map<string, SecretObject>();
  for (const name of names) {
    const secret = await read(name);
    if (secret === undefined) return { ok: false, reason: "SecretNotFound", message: `Secret "${name}" not found in the resource's namespace` };
    secrets.set(name, secret);
  }
  const values: Record<string, Record<string, Buffer>> = {};
  for (const ref of refs) {
    const encoded = secrets.get(ref.name)?.data?.[ref.key];
    if (encoded === undefined) return { ok: false, reason: "SecretKeyNotFound", message: `Secret "${ref.name}" has no key "${ref.key}"` };
    (values[ref.name] ??= {})[ref.key] = Buffer.from(encoded, "base64");
  }
  const versions = Object.fromEntries(names.map((n) => [n, secrets.get(n)?.metadata.resourceVersion ?? ""]));
  return { ok: true, source: secretSourceFrom(values), versions };
}

export type ResolvedTenant = Resolution<{ tenant: string }>;

/** The tenant a resource serves (core/src/tenancy.ts); undefined while the Namespace is not yet in the cache. */
export function resolveTenant(namespace: NamespaceObject | undefined): ResolvedTenant | undefined {
  if (namespace === undefined) return undefined;
  const resolution = tenantForNamespace(namespace);
  return resolution.ok ? { ok: true, tenant: resolution.tenant } : { ok: false, reason: resolution.reason, message: resolution.message };
}

/** A remembered check: its inputs, result and when the next one is due. */
export interface CheckMemo {
  fingerprint: string;
  result: CheckResult;
  at: number;
  nextCheckAt: number;
}

/** What a check depends on besides time: the object's identity and generation and its Secrets' versions. */
export function checkFingerprint(uid: string, generation: number, secretVersions: Record<string, string>): string {
  return JSON.stringify([uid, generation, Object.entries(secretVersions).sort(([a], [b]) => a.localeCompare(b))]);
}

/**
 * Whether to test connectivity now. Status updates, resyncs and unrelated events re-run the reconcile, and none of
 * them may cause a check: only new inputs or the schedule do. A replica that has just become leader has no memo
 * and checks once, because it cannot know whether a Secret changed during the hand-over.
 */
export function checkDue(memo: CheckMemo | undefined, fingerprint: string, now: number): boolean {
  return memo === undefined || memo.fingerprint !== fingerprint || now >= memo.nextCheckAt;
}
