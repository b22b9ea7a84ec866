import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/** Ed25519 signature type byte in C2SP signed-note key hashes and verifier keys. */
const ed25519Type = 0x01;

export interface NoteSigner {
  /** The signed-note key name (no whitespace or '+'). */
  name: string;
  /** 4-byte key id as 8 hex digits: first bytes of SHA-256(name || "\n" || 0x01 || public key). */
  keyId: string;
  /** C2SP verifier key: `<name>+<hex key id>+<base64(0x01 || public key)>`. */
  vkey: string;
  publicKeyPem: string;
  sign(message: Buffer): Buffer;
}

export interface NoteVerifier {
  name: string;
  keyId: string;
  verify(message: Buffer, signature: Buffer): boolean;
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: "jwk" });
  if (jwk.crv !== "Ed25519" || !jwk.x) throw new Error("the signing key must be an Ed25519 key");
  return Buffer.from(jwk.x, "base64url");
}

export function keyIdOf(name: string, rawPublic: Buffer): string {
  return createHash("sha256").update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.of(ed25519Type), rawPublic])).digest().subarray(0, 4).toString("hex");
}

export function signerFromPrivateKey(name: string, privateKey: KeyObject): NoteSigner {
  if (!/^[^\s+]+$/.test(name)) throw new Error(`key name ${JSON.stringify(name)} must not contain whitespace or '+'`);
  const publicKey = createPublicKey(privateKey);
  const raw = rawPublicKey(publicKey);
  const keyId = keyIdOf(name, raw);
  return {
    name,
    keyId,
    vkey: `${name}+${keyId}+${Buffer.concat([Buffer.of(ed25519Type), raw]).toString("base64")}`,
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    sign: (message) => sign(null, message, privateKey),
  };
}

/** Accepts a C2SP verifier key (`name+id+base64`) or, with a name, an Ed25519 public key in PEM. */
export function parseVerifierKey(text: string, nameForPem?: string): NoteVerifier {
  const trimmed = text.trim();
  if (trimmed.startsWith("-----BEGIN")) {
    if (!nameForPem) throw new Error("a PEM public key needs the key name");
    const key = createPublicKey(trimmed);
    return { name: nameForPem, keyId: keyIdOf(nameForPem, rawPublicKey(key)), verify: (m, s) => verify(null, m, key, s) };
  }
  // The base64 part may itself contain '+', so split on the first two only.
  const m = trimmed.match(/^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/);
  if (!m) throw new Error("verifier key must look like name+keyid+base64");
  const [, name, keyId, b64] = m as unknown as [string, string, string, string];
  const bytes = Buffer.from(b64, "base64");
  if (bytes.length !== 33 || bytes[0] !== ed25519Type) throw new Error("verifier key is not an Ed25519 key");
  const raw = bytes.subarray(1);
  if (keyIdOf(name, raw) !== keyId) throw new Error("verifier key id does not match its name and key");
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });
  return { name, keyId, verify: (m, s) => verify(null, m, key, s) };
}

/** Loads the PEM (PKCS#8) Ed25519 key, generating and saving one when `generate` is set and the file is missing. */
export async function loadSigningKey(file: string, name: string, generate: boolean): Promise<NoteSigner> {
  if (!existsSync(file)) {
    if (!generate) throw new Error(`signing key file ${file} does not exist`);
    const { privateKey } = generateKeyPairSync("ed25519");
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  }
  return signerFromPrivateKey(name, createPrivateKey(await readFile(file)));
}
