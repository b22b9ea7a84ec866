import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadAll } from "js-yaml";
import type { z } from "zod";
import { missingInlineSecrets, testDestinationSpec, testRecordingStorageSpec, type InlineSecrets, type StagedTestReport } from "@trailkeeper/core/checks/staged-test.ts";
import { crdApiVersion, type SecretKeyRef } from "@trailkeeper/core/crd/common.ts";
import { logForwardingDestinationNames, logForwardingDestinationSpecSchema } from "@trailkeeper/core/crd/log-forwarding-destination.ts";
import { recordingStorageNames, recordingStorageSpecSchema } from "@trailkeeper/core/crd/recording-storage.ts";
import { secretRefsIn, secretRefsOfRecordingStorage } from "@trailkeeper/core/crd/secret-refs.ts";
import type { EgressPolicy } from "@trailkeeper/core/net/egress.ts";
import { formatPath } from "./problem.ts";


/** Input the user must fix: exit 2 with the message. */
export class BadInputError extends Error {}

interface Manifest {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown };
  spec?: unknown;
  data?: unknown;
  stringData?: unknown;
}

function readDocuments(file: string): Manifest[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new BadInputError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return loadAll(text).filter((d): d is Manifest => d !== null && d !== undefined && typeof d === "object");
  } catch (err) {
    throw new BadInputError(`${file} is not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
}

interface Resource<S> {
  name: string;
  namespace: string | undefined;
  spec: S;
}

/** The one manifest of `kind` in the file, its apiVersion checked and its spec validated by the CRD's schema. */
function readResource<S>(file: string, kind: string, schema: z.ZodType<S>): Resource<S> {
  const docs = readDocuments(file);
  if (docs.length !== 1) throw new BadInputError(`${file} must hold exactly one ${kind} manifest (found ${docs.length} documents)`);
  const doc = docs[0]!;
  if (doc.kind !== kind) throw new BadInputError(`${file}: kind is ${JSON.stringify(doc.kind)}, expected ${kind}`);
  if (doc.apiVersion !== crdApiVersion) throw new BadInputError(`${file}: apiVersion is ${JSON.stringify(doc.apiVersion)}, expected ${crdApiVersion}`);
  const parsed = schema.safeParse(doc.spec ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${formatPath(["spec", ...i.path])}: ${i.message}`);
    throw new BadInputError(`${file}: the spec is not valid under the CRD schema:\n${lines.join("\n")}`);
  }
  const name = typeof doc.metadata?.name === "string" ? doc.metadata.name : "(unnamed)";
  const namespace = typeof doc.metadata?.namespace === "string" ? doc.metadata.namespace : undefined;
  return { name, namespace, spec: parsed.data };
}

function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value) || Object.values(value).some((v) => typeof v !== "string")) {
    throw new BadInputError(`${where} must map keys to strings`);
  }
  return value as Record<string, string>;
}

/**
 * Secret values from v1 Secret manifests, as the operator would read them: `data` base64-decoded, `stringData`
 * winning over it as the API server merges them. Secrets of another namespace than the resource's are ignored.
 */
function readSecrets(file: string, namespace: string | undefined): InlineSecrets {
  const out: InlineSecrets = {};
  for (const [i, doc] of readDocuments(file).entries()) {
    const where = `${file} document ${i + 1}`;
    if (doc.apiVersion !== "v1" || doc.kind !== "Secret") throw new BadInputError(`${where} is not a v1 Secret`);
    const name = doc.metadata?.name;
    if (typeof name !== "string" || name === "") throw new BadInputError(`${where} has no metadata.name`);
    const ns = doc.metadata?.namespace;
    if (typeof ns === "string" && namespace !== undefined && ns !== namespace) continue;
    const values: Record<string, string | Buffer> = {};
    for (const [key, b64] of Object.entries(stringMap(doc.data, `${where} data`))) {
      if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(b64)) throw new BadInputError(`${where} data.${key} is not base64`);
      values[key] = Buffer.from(b64, "base64");
    }
    Object.assign(values, stringMap(doc.stringData, `${where} stringData`));
    out[name] = { ...out[name], ...values };
  }
  return out;
}

function requireSecrets(refs: readonly SecretKeyRef[], secrets: InlineSecrets, secretsFile: string | undefined): void {
  const missing = missingInlineSecrets(refs, secrets);
  if (missing.length === 0) return;
  const names = missing.map((r) => `key "${r.key}" of Secret "${r.name}"`).join(", ");
  throw new BadInputError(
    secretsFile === undefined
      ? `the spec references ${names}; pass --secrets with that Secret's manifest (nothing is read from a cluster)`
      : `${secretsFile} lacks ${names}, which the spec references`,
  );
}

const mark = { passed: "ok  ", failed: "FAIL", skipped: "skip" } as const;

export function formatReport(r: StagedTestReport, title: string): string {
  const width = Math.max(...r.stages.map((s) => s.name.length));
  const lines = [`${title} → ${r.target}`];
  for (const s of r.stages) {
    lines.push(`  ${mark[s.status]} ${s.name.padEnd(width)} ${String(s.durationMs).padStart(6)} ms  ${s.detail}`);
    if (s.remedy !== undefined) lines.push(`       remedy: ${s.remedy}`);
  }
  lines.push(`${r.ok ? "PASSED" : "FAILED"}: ${r.reason} in ${r.durationMs} ms${r.ok ? "" : ` — ${r.message}`}`);
  return `${lines.join("\n")}\n`;
}

export function egressFromEnv(env: Record<string, string | undefined>): EgressPolicy {
  const flag = (name: string) => /^(1|true|yes|on)$/i.test(env[name] ?? "");
  return { allowLoopback: flag("EGRESS_ALLOW_LOOPBACK"), allowLinkLocal: flag("EGRESS_ALLOW_LINK_LOCAL"), allowCloudMetadata: flag("EGRESS_ALLOW_CLOUD_METADATA") };
}

/** `destination test` / `recording-storage test`: prints the stages and returns the exit code (0 passed, 1 failed). */
export async function runConfigTest(noun: "destination" | "recording-storage", args: string[], env: Record<string, string | undefined>): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { file: { type: "string", short: "f" }, secrets: { type: "string" }, json: { type: "boolean" } } });
  } catch (err) {
    throw new BadInputError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || positionals[0] !== "test" || values.file === undefined) throw new BadInputError(`usage: trailkeeper ${noun} test -f FILE [--secrets FILE] [--json]`);
  const options = { egress: egressFromEnv(env) };
  let report: StagedTestReport;
  let title: string;
  if (noun === "destination") {
    const lfd = readResource(values.file, logForwardingDestinationNames.kind, logForwardingDestinationSpecSchema);
    const secrets = values.secrets === undefined ? {} : readSecrets(values.secrets, lfd.namespace);
    requireSecrets(secretRefsIn(lfd.spec), secrets, values.secrets);
    title = `LogForwardingDestination ${lfd.namespace === undefined ? "" : `${lfd.namespace}/`}${lfd.name}`;
    report = await testDestinationSpec(lfd.spec, secrets, options);
  } else {
    const rs = readResource(values.file, recordingStorageNames.kind, recordingStorageSpecSchema);
    const secrets = values.secrets === undefined ? {} : readSecrets(values.secrets, rs.namespace);
    requireSecrets(secretRefsOfRecordingStorage(rs.spec), secrets, values.secrets);
    title = `RecordingStorage ${rs.namespace === undefined ? "" : `${rs.namespace}/`}${rs.name}`;
    report = await testRecordingStorageSpec(rs.spec, secrets, options);
  }
  process.stdout.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, title));
  return report.ok ? 0 : 1;
}
