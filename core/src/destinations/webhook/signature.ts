import { createHmac, randomUUID } from "node:crypto";

/**
 * Standard Webhooks v1 symmetric signing (protocols.md §5): HMAC-SHA256 over `{id}.{timestamp}.{body}` keyed with
 * the base64-decoded bytes after `whsec_`, sent as `v1,<base64>`.
 */
export const secretPrefix = "whsec_";
export const minSecretBytes = 24;
export const maxSecretBytes = 64;

export class InvalidSigningSecretError extends Error {
  constructor(why: string) {
    super(`invalid webhook signing secret: ${why}`);
    this.name = "InvalidSigningSecretError";
  }
}

/** The HMAC key bytes of a `whsec_…` secret; the message says what is wrong without echoing the secret. */
export function signingKey(secret: string): Buffer {
  if (!secret.startsWith(secretPrefix)) throw new InvalidSigningSecretError(`must start with ${secretPrefix}`);
  const encoded = secret.slice(secretPrefix.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) throw new InvalidSigningSecretError(`must be ${secretPrefix} followed by standard base64`);
  const key = Buffer.from(encoded, "base64");
  if (key.length < minSecretBytes || key.length > maxSecretBytes) {
    throw new InvalidSigningSecretError(`must decode to ${minSecretBytes} to ${maxSecretBytes} bytes, got ${key.length}`);
  }
  return key;
}

export function sign(key: Buffer, id: string, timestampSeconds: number, body: string | Buffer): string {
  const mac = createHmac("sha256", key).update(`${id}.${timestampSeconds}.`).update(body).digest("base64");
  return `v1,${mac}`;
}

/** Message ids must not contain dots, which delimit the signed content. */
export function newMessageId(): string {
  return `msg_${randomUUID().replaceAll("-", "")}`;
}

/** Headers for one attempt; re-sign on every retry because the timestamp changes. */
export function webhookHeaders(key: Buffer, id: string, body: string | Buffer, now: Date = new Date()): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": sign(key, id, timestamp, body),
  };
}
