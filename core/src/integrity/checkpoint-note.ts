import type { NoteSigner, NoteVerifier } from "./signing-key.ts";

export interface Checkpoint {
  tenant: string;
  seq: number;
  /** Chain head hash after `seq` events, lowercase hex. */
  hash: string;
  /** When it was signed, RFC 3339 UTC. */
  time: string;
  /**
   * Merkle tree root over the first `seq` events, lowercase hex (docs/integrity.md §5). Absent in checkpoints
   * signed before the tree existed, whose root hash line is the chain head.
   */
  root?: string;
}

/** The origin line names the log and the tenant, e.g. `trailkeeper.dev/audit/acme`. */
export const checkpointOrigin = (logName: string, tenant: string) => `${logName}/${tenant}`;

/** Extension line that carries the chain head in a Merkle checkpoint; its presence tells the two formats apart. */
const chainLinePrefix = "chain ";

/**
 * C2SP tlog-checkpoint body: origin, size (the tenant's event count = head seq), base64 of the 32-byte Merkle
 * root, then the extension lines `chain <hex head hash>` and `time <RFC 3339>`. Without a root (the format
 * before the Merkle tree, still produced for a tenant whose tree is being back-filled) the root hash line is
 * the chain head and only `time` follows. Each line ends in a newline.
 */
export function checkpointBody(logName: string, c: Checkpoint): string {
  const origin = checkpointOrigin(logName, c.tenant);
  const b64 = (hex: string) => Buffer.from(hex, "hex").toString("base64");
  if (c.root === undefined) return `${origin}\n${c.seq}\n${b64(c.hash)}\ntime ${c.time}\n`;
  return `${origin}\n${c.seq}\n${b64(c.root)}\n${chainLinePrefix}${c.hash}\ntime ${c.time}\n`;
}

/** A C2SP signed note: the body, a blank line, then `— <key name> <base64(key id || signature)>`. */
export function signCheckpoint(logName: string, c: Checkpoint, signer: NoteSigner): { note: string } {
  const body = checkpointBody(logName, c);
  const sig = Buffer.concat([Buffer.from(signer.keyId, "hex"), signer.sign(Buffer.from(body, "utf8"))]).toString("base64");
  return { note: `${body}\n\u2014 ${signer.name} ${sig}\n` };
}

export class NoteError extends Error {}

/** Parses a signed checkpoint note and checks its signature; returns the checkpoint it vouches for. */
export function openCheckpoint(note: string, verifier: NoteVerifier): Checkpoint & { origin: string } {
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new NoteError("not a signed note: no blank line before the signatures");
  const body = note.slice(0, split + 1);
  const sigLines = note.slice(split + 2).split("\n").filter((l) => l !== "");
  const mine = sigLines
    .map((l) => l.match(/^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/))
    .find((m) => m && m[1] === verifier.name && Buffer.from(m[2]!, "base64").subarray(0, 4).toString("hex") === verifier.keyId);
  if (!mine) throw new NoteError(`no signature by key ${verifier.name}+${verifier.keyId}`);
  const sig = Buffer.from(mine[2]!, "base64");
  if (sig.length !== 68 || !verifier.verify(Buffer.from(body, "utf8"), sig.subarray(4))) throw new NoteError("signature does not verify");
  const [origin, size, rootB64, ...ext] = body.slice(0, -1).split("\n");
  const hash = Buffer.from(rootB64 ?? "", "base64");
  if (!origin || !size || !/^\d+$/.test(size) || hash.length !== 32) throw new NoteError("malformed checkpoint body");
  const time = ext.find((l) => l.startsWith("time "))?.slice(5) ?? "";
  const tenant = origin.slice(origin.lastIndexOf("/") + 1);
  const chain = ext.find((l) => l.startsWith(chainLinePrefix))?.slice(chainLinePrefix.length);
  if (chain === undefined) return { origin, tenant, seq: Number(size), hash: hash.toString("hex"), time };
  if (!/^[0-9a-f]{64}$/.test(chain)) throw new NoteError("malformed chain extension line");
  return { origin, tenant, seq: Number(size), hash: chain, root: hash.toString("hex"), time };
}
