import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { parseDuration } from "../crd/duration.ts";
import { destinationKindOf, type LogForwardingDestinationSpec } from "../crd/log-forwarding-destination.ts";
import type { DestinationConfig, DestinationKind } from "../crd/destination-blocks.ts";
import type { RecordingStorageSpec } from "../crd/recording-storage.ts";
import { createDestination } from "../destinations/registry.ts";
import { assertHostAllowed, guardedLookup, resolveAllowed, type EgressPolicy } from "../net/egress.ts";
import { resolveTls, tlsConnectOptions } from "../net/tls.ts";
import type { SecretKeyRef } from "../crd/common.ts";
import { secretSourceFrom, type SecretSource } from "../secrets.ts";
import { recordingStorageTester } from "../storage/s3-tester.ts";
import type { CheckOutcome, CheckReason, CheckResult } from "./check-result.ts";
import type { Tester } from "./checked-tester.ts";
import { remedyFor, stageNames, type StageName, type TestedKind } from "./remedies.ts";
import { outcomeOfError } from "./run-check.ts";
import { destinationEndpoint, storageEndpoint, type TestEndpoint } from "./test-endpoint.ts";

export { stageNames, type StageName } from "./remedies.ts";

export interface StageReport {
  name: StageName;
  status: "passed" | "failed" | "skipped";
  durationMs: number;
  detail: string;
  remedy?: string;
}

export interface StagedTestReport {
  ok: boolean;
  reason: CheckReason;
  message: string;
  durationMs: number;
  target: string;
  stages: StageReport[];
}

/** Secret values given with the spec, by Secret name and key: text (stringData, the API) or bytes (decoded data). */
export type InlineSecrets = Record<string, Record<string, string | Buffer>>;

/** The longest a test may take, whatever spec.timeout says: a person is waiting for the answer. */
export const maxTestMs = 15_000;

export interface StagedTestOptions {
  egress: EgressPolicy;
  /** Cancels the test from outside (the client went away). */
  signal?: AbortSignal;
  now?: () => number;
}

/** Which stage a failure of the operator's tester belongs to, by its reason; the rest are the write probe's. */
const testerStageOf: Partial<Record<CheckReason, StageName>> = {
  AddressNotAllowed: "resolve",
  Unreachable: "connect",
  TLSError: "tls",
  InvalidCredentials: "authenticate",
  SecretNotFound: "authenticate",
};

/** Probe failures that show the peer judged the credentials and let them pass before refusing something else. */
const credentialsJudged: ReadonlySet<CheckReason> = new Set<CheckReason>(["PermissionDenied", "NotFound", "Rejected", "DataMismatch", "InvalidConfig", "RateLimited", "UnexpectedResponse"]);

/** The references a test cannot run without: each `…SecretRef` of the spec that has no inline value. */
export function missingInlineSecrets(refs: readonly SecretKeyRef[], secrets: InlineSecrets): SecretKeyRef[] {
  const seen = new Set<string>();
  return refs.filter((r) => {
    const id = `${r.name}\u0000${r.key}`;
    if (seen.has(id) || Object.hasOwn(secrets[r.name] ?? {}, r.key)) return false;
    seen.add(id);
    return true;
  });
}

/** Replaces every secret value (and its trimmed form, as tokens are read trimmed) in a text by [redacted]. */
export function redactorFor(secrets: InlineSecrets): (text: string) => string {
  const values = [...new Set(Object.values(secrets).flatMap((keys) => Object.values(keys).flatMap((v) => [v.toString("utf8"), v.toString("utf8").trim()])))]
    .filter((v) => v !== "")
    .sort((a, b) => b.length - a.length);
  return (text) => values.reduce((out, v) => out.replaceAll(v, "[redacted]"), text);
}

interface Stage extends StageReport {
  reason?: CheckReason;
}

const passed = (name: StageName, durationMs: number, detail: string): Stage => ({ name, status: "passed", durationMs, detail });

async function timed(name: StageName, signal: AbortSignal, budgetMs: number, now: () => number, run: () => Promise<string>): Promise<Stage> {
  const started = now();
  const elapsed = () => Math.max(0, Math.round(now() - started));
  try {
    const detail = await abortable(run(), signal);
    return passed(name, elapsed(), detail);
  } catch (err) {
    const outcome = outcomeOfError(err, signal.aborted && (signal.reason as Error | undefined)?.name === "TimeoutError", budgetMs);
    return { name, status: "failed", durationMs: elapsed(), detail: outcome.message, reason: outcome.reason };
  }
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

async function resolveHost(ep: TestEndpoint, egress: EgressPolicy): Promise<string> {
  if (isIP(ep.host) !== 0) {
    assertHostAllowed(ep.host, egress);
    return `${ep.host} is an IP address the egress policy allows`;
  }
  const addresses = await resolveAllowed(ep.host, egress);
  return `${ep.host} resolves to ${addresses.map((a) => a.address).join(", ")}, allowed by the egress policy`;
}

/** A TCP connection through the same guarded lookup as the drivers; the caller owns the socket. */
function connectTcp(ep: TestEndpoint, egress: EgressPolicy, sockets: Socket[]): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: ep.host, port: ep.port, lookup: guardedLookup(egress) });
    sockets.push(socket);
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** The TLS handshake over the connected socket, with the driver's own options (CA, client cert, server name). */
function handshake(ep: TestEndpoint, secrets: SecretSource, socket: Socket, sockets: Socket[]): Promise<TLSSocket> {
  const tls = resolveTls(ep.tls, secrets);
  const servername = tls.servername ?? (isIP(ep.host) === 0 ? ep.host : undefined);
  return new Promise((resolve, reject) => {
    const secure = tlsConnect({ ...tlsConnectOptions(tls), socket, host: ep.host, ...(servername === undefined ? {} : { servername }) });
    sockets.push(secure);
    secure.once("secureConnect", () => resolve(secure));
    secure.once("error", reject);
  });
}

function tlsDetail(socket: TLSSocket, ep: TestEndpoint, verified: boolean): string {
  const subject = socket.getPeerCertificate()?.subject?.CN;
  const cert = verified ? "certificate verified" : "certificate NOT verified: insecureSkipVerify is set";
  return `${socket.getProtocol() ?? "TLS"} with ${ep.host}:${ep.port}, ${cert}${subject ? ` (subject CN ${subject})` : ""}`;
}

interface Preflight {
  stages: Stage[];
  failed: boolean;
}

/** resolve → connect → tls, each timed, stopping at the first failure. */
async function preflight(ep: TestEndpoint, secrets: SecretSource, egress: EgressPolicy, signal: AbortSignal, budgetMs: number, now: () => number): Promise<Preflight> {
  const sockets: Socket[] = [];
  const stages: Stage[] = [];
  const step = async (name: StageName, run: () => Promise<string>) => {
    const stage = await timed(name, signal, budgetMs, now, run);
    stages.push(stage);
    return stage.status === "passed";
  };
  try {
    if (!(await step("resolve", () => resolveHost(ep, egress)))) return { stages, failed: true };
    if (ep.transport === "udp") {
      stages.push(passed("connect", 0, `UDP has no handshake: nothing is connected, and datagrams to ${ep.host}:${ep.port} are never acknowledged`));
      stages.push({ name: "tls", status: "skipped", durationMs: 0, detail: "UDP: no TLS" });
      return { stages, failed: false };
    }
    let socket: Socket | undefined;
    const connected = await step("connect", async () => {
      socket = await connectTcp(ep, egress, sockets);
      return `TCP connection to ${socket.remoteAddress}:${ep.port} established`;
    });
    if (!connected) return { stages, failed: true };
    if (ep.transport !== "tls") {
      stages.push({ name: "tls", status: "skipped", durationMs: 0, detail: "plain TCP/HTTP" });
      return { stages, failed: false };
    }
    const verified = resolveTls(ep.tls, secrets).rejectUnauthorized;
    const ok = await step("tls", async () => tlsDetail(await handshake(ep, secrets, socket!, sockets), ep, verified));
    return { stages, failed: !ok };
  } finally {
    // TLS wrappers before the sockets under them: Node 24 crashes (SIGSEGV) when a wrapped socket goes first.
    for (const s of sockets.reverse()) s.destroy();
  }
}

/** The operator's tester's outcome as the authenticate and probe stages, or as the earlier stage it belongs to. */
function attribute(pre: Stage[], result: CheckResult, ep: TestEndpoint): Stage[] {
  const noCredentials = "this destination type has no credentials to check";
  if (result.success) {
    const auth: Stage =
      ep.credentials === undefined
        ? { name: "authenticate", status: "skipped", durationMs: 0, detail: noCredentials }
        : passed("authenticate", 0, `${ep.credentials} was accepted (checked by the probe's requests; their time is counted there)`);
    return [...pre, auth, passed("probe", result.latencyMs, result.message)];
  }
  const stage = testerStageOf[result.reason] ?? "probe";
  const failedStage: Stage = { name: stage, status: "failed", durationMs: result.latencyMs, detail: result.message, reason: result.reason };
  const before = stageNames.slice(0, stageNames.indexOf(stage)).map((name): Stage => {
    const earlier = pre.find((s) => s.name === name);
    if (earlier !== undefined) return earlier;
    if (ep.credentials === undefined) return { name, status: "skipped", durationMs: 0, detail: noCredentials };
    return credentialsJudged.has(result.reason)
      ? passed(name, 0, `${ep.credentials} was not refused; the probe failed afterwards`)
      : { name, status: "skipped", durationMs: 0, detail: `not confirmed: the probe ended before ${ep.credentials} was judged` };
  });
  return [...before, failedStage];
}

/** Fills the stages after the failed one with "skipped", and adds the remedy to the failed one. */
function complete(stages: Stage[], kind: TestedKind): StageReport[] {
  const out: StageReport[] = stageNames.map((name) => {
    const s = stages.find((x) => x.name === name);
    if (s === undefined) return { name, status: "skipped", durationMs: 0, detail: "not run: an earlier stage failed" };
    const { reason, ...report } = s;
    return s.status === "failed" && reason !== undefined ? { ...report, remedy: remedyFor(kind, name, reason) } : report;
  });
  return out;
}

interface TestPlan {
  kind: TestedKind;
  endpoint: TestEndpoint;
  specTimeout: string;
  /** The operator's tester for the spec, with its timeout replaced by what is left of the test's budget. */
  tester: (timeout: string) => Tester;
}

async function runPlan(plan: TestPlan, secrets: InlineSecrets, options: StagedTestOptions): Promise<StagedTestReport> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const budgetMs = Math.min(parseDuration(plan.specTimeout), maxTestMs);
  const deadline = AbortSignal.timeout(budgetMs);
  const signal = options.signal === undefined ? deadline : AbortSignal.any([deadline, options.signal]);
  const source = secretSourceFrom(secrets);
  const pre = await preflight(plan.endpoint, source, options.egress, signal, budgetMs, now);
  let stages: Stage[] = pre.stages;
  let outcome: CheckOutcome;
  if (pre.failed) {
    const failed = stages.find((s) => s.status === "failed")!;
    outcome = { success: false, reason: failed.reason!, message: failed.detail };
  } else {
    const remainingMs = Math.max(1, Math.round(budgetMs - (now() - started)));
    const tester = plan.tester(`${remainingMs}ms`);
    const result = await tester.check({ signal }).finally(() => tester.close());
    stages = attribute(stages, result, plan.endpoint);
    outcome = result;
  }
  const redact = redactorFor(secrets);
  return {
    ok: outcome.success,
    reason: outcome.reason,
    message: redact(outcome.message),
    durationMs: Math.max(0, Math.round(now() - started)),
    target: plan.endpoint.target,
    stages: complete(stages, plan.kind).map((s) => ({ ...s, detail: redact(s.detail) })),
  };
}

/**
 * Tests a LogForwardingDestination spec (already valid under the CRD schema) stage by stage: a pre-flight of
 * resolve, connect and TLS through the drivers' egress guard and TLS options, then the operator's very tester.
 */
export function testDestinationSpec(spec: LogForwardingDestinationSpec, secrets: InlineSecrets, options: StagedTestOptions): Promise<StagedTestReport> {
  const kind = destinationKindOf(spec);
  if (kind === undefined) throw new Error("testDestinationSpec needs a validated spec with exactly one destination block");
  const config = spec[kind] as DestinationConfig<DestinationKind>;
  return runPlan(
    {
      kind,
      endpoint: destinationEndpoint(kind, config),
      specTimeout: spec.timeout,
      tester: (timeout) => createDestination({ ...spec, timeout }, { secrets: secretSourceFrom(secrets), egress: options.egress }),
    },
    secrets,
    options,
  );
}

/** Tests a RecordingStorage spec the same way, ending with the operator's put/read/delete probe. */
export function testRecordingStorageSpec(spec: RecordingStorageSpec, secrets: InlineSecrets, options: StagedTestOptions): Promise<StagedTestReport> {
  return runPlan(
    {
      kind: "s3",
      endpoint: storageEndpoint(spec),
      specTimeout: spec.timeout,
      tester: (timeout) => recordingStorageTester({ ...spec, timeout }, { secrets: secretSourceFrom(secrets), egress: options.egress }),
    },
    secrets,
    options,
  );
}
