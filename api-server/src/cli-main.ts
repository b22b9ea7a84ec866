import { existsSync, readFileSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { exitCodes, notesFromCheckpointFile, parseExport, UnusableInputError, verifyParsedExport, type OfflineReport } from "@trailkeeper/core/integrity/offline-verify.ts";
import { minParallelBytes, prestartLineWorker, readFileShared } from "@trailkeeper/core/integrity/export-lines.ts";
import { parseVerifierKey } from "@trailkeeper/core/integrity/signing-key.ts";
import { witnessOptions } from "./cli-witness.ts";

const usage = `Usage:
  trailkeeper admin tenant create <tenant>
  trailkeeper admin key create <tenant> --scopes events:write,events:read [--name NAME]
  trailkeeper admin key list <tenant>
  trailkeeper admin key revoke <tenant> <key-id>
  trailkeeper admin console-link <tenant> [--ttl 15m] [--scopes events:read,events:export,integrity:read] [--subject WHO]
      prints a one-time console sign-in link (default 15m, at most 24h) and its expiry
  trailkeeper admin retention get <tenant>
  trailkeeper admin retention set <tenant> --days N | --forever
  trailkeeper admin retention prune <tenant>
      prunes now what the hourly job would: whole monthly ranges older than the period, sealed by a checkpoint
  trailkeeper admin legal-hold place <tenant> [--reason TEXT]
  trailkeeper admin legal-hold release <tenant>
      --url URL        API server (env TRAILKEEPER_URL, default http://127.0.0.1:8080)
      --token TOKEN    admin token (env TRAILKEEPER_ADMIN_TOKEN, else ./.data/admin-token)

  trailkeeper verify <export.jsonl|export.csv> [--checkpoint FILE]... [--proofs FILE]... [--public-key FILE] [--filtered] [--json]
                     [--witnessed PATH]... [--consistency FILE]... [--server URL [--token KEY]]
      --public-key FILE  verifier key (name+id+base64), the JSON of GET /v1/integrity/public-key, or a PEM
                         key with --key-name
      --filtered         the export was filtered: prove each event, not completeness
      --proofs FILE      a proof bundle (POST /v1/integrity/proofs, format 1 or 2): prove every event's inclusion in its
                         signed tree
      --witnessed PATH   checkpoint notes from a witness copy: a note or checkpoint JSON file, or a directory of
                         .note files (e.g. a copy of the bucket's checkpoints/<tenant>/); checks forks, the export
                         against them, and consistency between consecutive ones
      --consistency FILE saved answers of GET /v1/integrity/consistency, for --witnessed
      --server URL       fetch the consistency proofs --witnessed needs from this API server (its answers are
                         verified against the witnessed roots), with --token KEY or TRAILKEEPER_API_KEY
      exit codes: 0 valid, 1 tampered or incomplete, 2 unusable input

  trailkeeper destination test -f lfd.yaml [--secrets secrets.yaml] [--json]
  trailkeeper recording-storage test -f rs.yaml [--secrets secrets.yaml] [--json]
      runs the operator's connectivity test locally, stage by stage (resolve, connect, tls, authenticate, probe);
      nothing is read from a cluster: every Secret the spec references must be in --secrets (v1 Secret
      manifests, data and/or stringData, several documents allowed). Loopback, link-local and cloud metadata
      addresses are refused unless EGRESS_ALLOW_LOOPBACK / _LINK_LOCAL / _CLOUD_METADATA=true, as in the operator
      exit codes: 0 passed, 1 failed, 2 bad input
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`trailkeeper: ${message}\n`);
  process.exit(code);
}

async function admin(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: {
      url: { type: "string" }, token: { type: "string" }, scopes: { type: "string" }, name: { type: "string" }, ttl: { type: "string" }, subject: { type: "string" },
      days: { type: "string" }, forever: { type: "boolean" }, reason: { type: "string" },
    },
  });
  const base = (values.url ?? process.env.TRAILKEEPER_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
  const token = values.token ?? process.env.TRAILKEEPER_ADMIN_TOKEN ?? (existsSync(".data/admin-token") ? readFileSync(".data/admin-token", "utf8").trim() : undefined);
  if (!token) fail("no admin token: pass --token or set TRAILKEEPER_ADMIN_TOKEN");
  const request = async (method: string, path: string, body?: unknown): Promise<{ status: number; statusText: string; text: string }> => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) fail(`${method} ${path} → ${res.status} ${text}`, 1);
    return { status: res.status, statusText: res.statusText, text };
  };
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await request(method, path, body);
    process.stdout.write(res.text ? `${JSON.stringify(JSON.parse(res.text), null, 2)}\n` : `${res.status} ${res.statusText}\n`);
  };
  if (positionals[0] === "console-link") return consoleLink(positionals, values, request);
  const [noun, verb, tenant, id] = positionals;
  if (!tenant) fail(usage);
  const t = encodeURIComponent(tenant);
  switch (`${noun} ${verb}`) {
    case "tenant create": return call("POST", "/v1/admin/tenants", { id: tenant });
    case "key create":
      if (!values.scopes) fail("--scopes is required");
      return call("POST", `/v1/admin/tenants/${t}/api-keys`, { scopes: values.scopes.split(","), ...(values.name ? { name: values.name } : {}) });
    case "key list": return call("GET", `/v1/admin/tenants/${t}/api-keys`);
    case "key revoke": return id ? call("DELETE", `/v1/admin/tenants/${t}/api-keys/${encodeURIComponent(id)}`) : fail(usage);
    default: return retention(`/v1/admin/tenants/${t}`, `${noun} ${verb}`, values, call);
  }
}

/** `admin retention get|set|prune` and `admin legal-hold place|release`, under the tenant's admin path. */
function retention(base: string, command: string, values: { days?: string; forever?: boolean; reason?: string }, call: (method: string, path: string, body?: unknown) => Promise<void>): Promise<void> {
  switch (command) {
    case "retention get": return call("GET", `${base}/retention`);
    case "retention set": return call("PUT", `${base}/retention`, { retentionDays: retentionDaysOption(values) });
    case "retention prune": return call("POST", `${base}/prune`);
    case "legal-hold place": return call("PUT", `${base}/legal-hold`, { hold: true, ...(values.reason ? { reason: values.reason } : {}) });
    case "legal-hold release": return call("PUT", `${base}/legal-hold`, { hold: false });
    default: fail(usage);
  }
}

/** `--days N` (whole days) or `--forever` (null: keep events forever). */
function retentionDaysOption(values: { days?: string; forever?: boolean }): number | null {
  if (values.forever && values.days === undefined) return null;
  if (values.forever || values.days === undefined) fail("retention set needs exactly one of --days N and --forever");
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1) fail(`--days ${values.days}: must be a whole number of days, at least 1`);
  return days;
}

type AdminRequest = (method: string, path: string, body?: unknown) => Promise<{ text: string }>;

/** `admin console-link <tenant>`: mints a one-time sign-in link through the admin API and prints it. */
async function consoleLink(positionals: string[], values: { ttl?: string; scopes?: string; subject?: string }, request: AdminRequest): Promise<void> {
  const [, tenant, extra] = positionals;
  if (!tenant || extra !== undefined) fail(usage);
  let ttlSeconds: number | undefined;
  if (values.ttl !== undefined) {
    // Loaded here: it brings zod, a quarter of a second of start-up that `verify` does not need.
    const { parseDuration } = await import("@trailkeeper/core/crd/duration.ts");
    try {
      ttlSeconds = parseDuration(values.ttl) / 1000;
    } catch {
      fail(`--ttl ${values.ttl}: must be a duration such as 90s, 15m or 24h`);
    }
    if (!Number.isInteger(ttlSeconds)) fail(`--ttl ${values.ttl}: must be whole seconds`);
  }
  const body = {
    ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
    ...(values.scopes ? { scopes: values.scopes.split(",").map((s) => s.trim()).filter(Boolean) } : {}),
    ...(values.subject ? { subject: values.subject } : {}),
  };
  const res = await request("POST", `/v1/admin/tenants/${encodeURIComponent(tenant)}/viewer-sessions`, body);
  const link = JSON.parse(res.text) as { id: string; url: string; expiresAt: string; scopes: string[] };
  process.stdout.write(`${link.url}\n  single use, expires ${link.expiresAt}; scopes ${link.scopes.join(",")}; id ${link.id} (revoke: DELETE /v1/admin/tenants/${tenant}/viewer-sessions/${link.id})\n`);
}

function readText(file: string): string {
  return readBytes(file).toString("utf8");
}

/** `shared`: into shared memory, which a worker thread of the verifier reads without a copy. */
function readBytes(file: string, shared = false): Buffer {
  try {
    return shared ? readFileShared(file) : readFileSync(file);
  } catch (err) {
    return fail(`cannot read ${file}: ${(err as Error).message}`);
  }
}

function printReport(r: OfflineReport): void {
  const lines = [
    `${r.exitCode === 0 ? "VALID" : "TAMPERED OR INCOMPLETE"}: ${r.events} ${r.format.toUpperCase()} events of tenant ${r.tenant}, seq ${r.firstSeq}..${r.lastSeq}`,
    `  hashes recomputed: ${r.events}; signed checkpoints matched: ${r.checkpointsMatched}${r.proven > 0 ? `; inclusion proven: ${r.proven}` : ""}`,
    ...(r.complete ? ["  continuity: proven, no seq missing"] : []),
    ...r.missing.map((m) => `  missing: seq ${m.from}..${m.to}`),
    ...(r.failure ? [`  first failure: seq ${r.failure.seq} ${r.failure.reason}: ${r.failure.message}`] : []),
    ...r.notes.map((n) => `  note: ${n}`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

async function verify(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: {
      checkpoint: { type: "string", multiple: true }, proofs: { type: "string", multiple: true }, "public-key": { type: "string" }, "key-name": { type: "string" },
      filtered: { type: "boolean" }, json: { type: "boolean" },
      witnessed: { type: "string", multiple: true }, consistency: { type: "string", multiple: true }, server: { type: "string" }, token: { type: "string" },
    },
  });
  const [file] = positionals;
  if (!file || positionals.length > 1) fail(usage);
  // A large export is checked on two threads: the worker loads while the files are read.
  if ((statSync(file, { throwIfNoEntry: false })?.size ?? 0) >= minParallelBytes) prestartLineWorker();
  try {
    let verifier;
    if (values["public-key"]) {
      const text = readText(values["public-key"]).trim();
      try {
        verifier = parseVerifierKey(text.startsWith("{") ? (JSON.parse(text) as { vkey: string }).vkey : text, values["key-name"]);
      } catch (err) {
        throw new UnusableInputError(`public key: ${(err as Error).message}`);
      }
    }
    const notes = (values.checkpoint ?? []).flatMap((f) => notesFromCheckpointFile(readText(f)).map((text, i) => ({ name: `${f} #${i + 1}`, text })));
    const proofBundles = (values.proofs ?? []).map(readText);
    // Bytes, not text: a JSONL line in canonical form is hashed as it stands (docs/integrity.md §5).
    const parsed = parseExport(readBytes(file, true));
    const opts = { notes, verifier, filtered: values.filtered === true, proofBundles };
    const report = verifyParsedExport(parsed, { ...opts, ...(await witnessOptions(parsed, opts, values)) });
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else printReport(report);
    process.exit(report.exitCode);
  } catch (err) {
    // Bad files are exit 2; anything else is a bug and keeps its stack trace.
    if (err instanceof UnusableInputError || err instanceof SyntaxError) fail(`unusable input: ${err.message}`, exitCodes.unusable);
    throw err;
  }
}

/** Loaded on demand: the testers bring the S3 SDK and every destination, which the admin commands do not need. */
async function configTest(noun: "destination" | "recording-storage", args: string[]): Promise<void> {
  const { BadInputError, runConfigTest } = await import("./config-test-cli.ts");
  try {
    process.exitCode = await runConfigTest(noun, args, process.env);
  } catch (err) {
    if (err instanceof BadInputError) fail(err.message);
    throw err;
  }
}

const [command, ...rest] = process.argv.slice(2);
if (command === "admin") await admin(rest);
else if (command === "verify") await verify(rest);
else if (command === "destination" || command === "recording-storage") await configTest(command, rest);
else {
  process.stdout.write(usage);
  process.exit(command === undefined || command === "--help" || command === "help" ? 0 : 2);
}
