import type { SecretKeyRef } from "./crd/common.ts";

/**
 * Secret values resolved by the operator from the resource's namespace. Testers and forwarders receive this and
 * never talk to Kubernetes, so they can be tested with plain values.
 */
export interface SecretSource {
  get(ref: SecretKeyRef): Buffer | undefined;
}

export class MissingSecretError extends Error {
  readonly ref: SecretKeyRef;
  constructor(ref: SecretKeyRef) {
    super(`key "${ref.key}" of Secret "${ref.name}" not found`);
    this.name = "MissingSecretError";
    this.ref = ref;
  }
}

export function requireSecret(source: SecretSource, ref: SecretKeyRef): Buffer {
  const value = source.get(ref);
  if (value === undefined) throw new MissingSecretError(ref);
  return value;
}

/** Tokens pasted into Secrets often carry a trailing newline (`echo` without -n); it is never part of the token. */
export function requireSecretText(source: SecretSource, ref: SecretKeyRef): string {
  return requireSecret(source, ref).toString("utf8").trim();
}

/** Builds a SecretSource from `{ secretName: { key: value } }`, values as text or bytes (decoded Secret data). */
export function secretSourceFrom(secrets: Record<string, Record<string, string | Buffer>>): SecretSource {
  return {
    get(ref) {
      const value = secrets[ref.name]?.[ref.key];
      if (value === undefined) return undefined;
      return typeof value === "string" ? Buffer.from(value, "utf8") : value;
    },
  };
}

export const noSecrets: SecretSource = { get: () => undefined };
