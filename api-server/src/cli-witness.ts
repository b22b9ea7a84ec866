import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import {
  consistencyProofsNeeded, notesFromCheckpointFile, UnusableInputError, type ParsedExport, type VerifyOptions,
} from "@trailkeeper/core/integrity/offline-verify.ts";
import type { ConsistencyProofResult, NamedNote } from "@trailkeeper/core/integrity/witness.ts";

/**
 * Inputs of `trailkeeper verify --witnessed`: notes read from a witness copy, and consistency proofs from saved
 * files or fetched from the server (docs/integrity.md §7).
 */

const read = (file: string): string => {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new UnusableInputError(`cannot read ${file}: ${(err as Error).message}`);
  }
};

/** Every `.note` file under a directory (recursively, as a bucket copy is laid out), in name order. */
function noteFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith(".note"))
    .map((d) => path.join(d.parentPath, d.name))
    .sort();
}

/** Witnessed notes from files (a note, or checkpoint JSON) and directories (their `.note` files), each named by its path. */
export function readWitnessed(paths: readonly string[]): NamedNote[] {
  return paths.flatMap((p) => {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (err) {
      throw new UnusableInputError(`cannot read ${p}: ${(err as Error).message}`);
    }
    if (isDir) return noteFiles(p).map((f) => ({ name: f, text: read(f) }));
    const notes = notesFromCheckpointFile(read(p));
    return notes.map((text, i) => ({ name: notes.length === 1 ? p : `${p} #${i + 1}`, text }));
  });
}

interface ConsistencyBody {
  from: number;
  to: number;
  proof: string[];
}

const proofKey = (from: number, to: number) => `${from}-${to}`;
const decode = (b: ConsistencyBody): Buffer[] => b.proof.map((h) => Buffer.from(String(h), "base64"));

/** Saved answers of `GET /v1/integrity/consistency` (one per file, or an array), by (from, to). */
export function readConsistencyFiles(files: readonly string[]): Map<string, ConsistencyProofResult> {
  const proofs = new Map<string, ConsistencyProofResult>();
  for (const f of files) {
    const v = JSON.parse(read(f)) as ConsistencyBody | ConsistencyBody[];
    for (const b of Array.isArray(v) ? v : [v]) {
      if (!Number.isSafeInteger(b.from) || !Number.isSafeInteger(b.to) || !Array.isArray(b.proof)) throw new UnusableInputError(`${f}: not a consistency proof (from, to, proof)`);
      proofs.set(proofKey(b.from, b.to), { proof: decode(b) });
    }
  }
  return proofs;
}

/**
 * Fetches the consistency proofs not already given from the server. The server is the suspect, so its answer is
 * only a claim the verifier checks against the witnessed roots; a refusal (say, a tree now smaller than a
 * witnessed size) is itself a finding, while an unreachable server is unusable input.
 */
export async function fetchConsistencyProofs(pairs: readonly [number, number][], known: Map<string, ConsistencyProofResult>, server: { url: string; token: string }): Promise<void> {
  for (const [from, to] of pairs) {
    if (known.has(proofKey(from, to))) continue;
    const url = `${server.url.replace(/\/$/, "")}/v1/integrity/consistency?from=${from}&to=${to}`;
    let res: Response;
    try {
      res = await fetch(url, { headers: { authorization: `Bearer ${server.token}` } });
    } catch (err) {
      throw new UnusableInputError(`cannot reach ${url}: ${(err as Error).message}`);
    }
    const body = (await res.json().catch(() => ({}))) as Partial<ConsistencyBody> & { code?: string; detail?: string };
    if (res.status === 401 || res.status === 403) throw new UnusableInputError(`${url} → ${res.status}: the token needs the integrity:read scope`);
    if (res.status >= 500) throw new UnusableInputError(`${url} → ${res.status} ${body.code ?? ""}: try again later`);
    if (!res.ok || !Array.isArray(body.proof)) known.set(proofKey(from, to), { error: `the server answered ${res.status} ${body.code ?? ""} ${body.detail ?? ""}`.trim() });
    else known.set(proofKey(from, to), { proof: decode(body as ConsistencyBody) });
  }
}

export const proofLookup = (known: Map<string, ConsistencyProofResult>) => (from: number, to: number): ConsistencyProofResult => known.get(proofKey(from, to));

export interface WitnessArgs {
  witnessed?: string[];
  consistency?: string[];
  server?: string;
  token?: string;
}

/**
 * The verifier options for `--witnessed`: the notes, and every consistency proof the check will ask for, read
 * from `--consistency` files or fetched from `--server` beforehand (the verification itself is synchronous).
 */
export async function witnessOptions(parsed: ParsedExport, opts: VerifyOptions, args: WitnessArgs): Promise<Pick<VerifyOptions, "witnessed" | "consistencyProof">> {
  if (!args.witnessed?.length) {
    if (args.consistency?.length || args.server) throw new UnusableInputError("--consistency and --server only serve --witnessed");
    return {};
  }
  const witnessed = readWitnessed(args.witnessed);
  const known = readConsistencyFiles(args.consistency ?? []);
  if (args.server) {
    const token = args.token ?? process.env.TRAILKEEPER_API_KEY;
    if (!token) throw new UnusableInputError("--server needs an API key with integrity:read: --token or TRAILKEEPER_API_KEY");
    await fetchConsistencyProofs(consistencyProofsNeeded(parsed, { ...opts, witnessed }), known, { url: args.server, token });
  }
  return { witnessed, consistencyProof: proofLookup(known) };
}
