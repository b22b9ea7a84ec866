import { Router, type Request, type Response } from "express";
import { z } from "zod";
import { missingInlineSecrets, testDestinationSpec, testRecordingStorageSpec, type InlineSecrets, type StagedTestReport } from "@trailkeeper/core/checks/staged-test.ts";
import type { SecretKeyRef } from "@trailkeeper/core/crd/common.ts";
import { destinationKindOf, logForwardingDestinationSpecSchema } from "@trailkeeper/core/crd/log-forwarding-destination.ts";
import { recordingStorageSpecSchema } from "@trailkeeper/core/crd/recording-storage.ts";
import { secretRefsIn, secretRefsOfRecordingStorage } from "@trailkeeper/core/crd/secret-refs.ts";
import { inTransaction, type Pool } from "@trailkeeper/core/db/pool.ts";
import type { ParsedEventInput } from "@trailkeeper/core/events/model.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import type { EgressPolicy } from "@trailkeeper/core/net/egress.ts";
import { requireScope } from "../auth.ts";
import type { ApiServerEnv } from "../config.ts";
import { fieldErrors, Problem } from "../problem.ts";
import type { ApiKeyPrincipal, ApiKeyResolver } from "../services/api-keys.ts";
import { appendAuditEvent } from "../services/audit-events.ts";
import { TenantRateLimiter } from "../services/tenant-rate-limiter.ts";
import { jsonBody } from "./json-body.ts";

export interface ConfigTestOptions {
  egress: EgressPolicy;
  perMinute: number;
  burst: number;
}

export function configTestOptions(config: ApiServerEnv): ConfigTestOptions {
  return {
    egress: { allowLoopback: config.EGRESS_ALLOW_LOOPBACK, allowLinkLocal: config.EGRESS_ALLOW_LINK_LOCAL, allowCloudMetadata: config.EGRESS_ALLOW_CLOUD_METADATA },
    perMinute: config.TRAILKEEPER_CONFIG_TESTS_PER_MINUTE,
    burst: config.TRAILKEEPER_CONFIG_TEST_BURST,
  };
}

/** The same egress policy as the operator's defaults, for apps built without options (tests of other routes). */
export const defaultConfigTestOptions: ConfigTestOptions = { egress: { allowLoopback: false, allowLinkLocal: false, allowCloudMetadata: false }, perMinute: 10, burst: 3 };

/** Secret values as a v1 Secret's stringData: Secret name → key → UTF-8 text. */
const inlineSecretsSchema = z
  .record(z.string().min(1).max(253), z.record(z.string().min(1).max(253), z.string().max(64 * 1024)))
  .default({});

const bodySchema = z.object({ spec: z.unknown(), secrets: inlineSecretsSchema });

interface Tested<S> {
  spec: S;
  secrets: InlineSecrets;
}

/** Validates `{spec, secrets}` with the CRD's own schema; every problem is listed at once, under `spec.` and `secrets.`. */
function parseBody<S>(body: unknown, specSchema: z.ZodType<S>, refsOf: (spec: S) => SecretKeyRef[]): Tested<S> {
  const outer = bodySchema.safeParse(body);
  if (!outer.success) throw new Problem(400, "invalid_request", "the body must be {\"spec\": {…}, \"secrets\"?: {\"<secret>\": {\"<key>\": \"<value>\"}}}", fieldErrors(outer.error));
  const spec = specSchema.safeParse(outer.data.spec ?? {});
  if (!spec.success) throw new Problem(400, "invalid_request", "the spec is not valid under the CRD schema", fieldErrors(spec.error, ["spec"]));
  const missing = missingInlineSecrets(refsOf(spec.data), outer.data.secrets);
  if (missing.length > 0) {
    const names = missing.map((r) => `${r.name}/${r.key}`).join(", ");
    throw new Problem(400, "missing_secret", `no value given for the referenced Secret key${missing.length > 1 ? "s" : ""} ${names}`, missing.map((r) => ({ path: `secrets.${r.name}.${r.key}`, message: `the spec references key "${r.key}" of Secret "${r.name}"; give its value` })));
  }
  return { spec: spec.data, secrets: outer.data.secrets };
}

function actorOf(p: ApiKeyPrincipal): ParsedEventInput["actor"] {
  return { id: p.keyId, type: p.session?.via === "link" ? "user" : "service" };
}

/** One event per test in the tenant's chain: who tested what, and how it went; never a secret or the message. */
function testEvent(req: Request, action: string, resourceType: string, type: string, report: StagedTestReport): ParsedEventInput {
  const failedStage = report.stages.find((s) => s.status === "failed")?.name;
  return {
    actor: actorOf(req.principal!),
    action,
    resource: { type: resourceType, id: report.target.slice(0, 256) },
    outcome: report.ok ? "success" : "failure",
    details: { type, target: report.target, reason: report.reason, durationMs: report.durationMs, ...(failedStage === undefined ? {} : { failedStage }) },
    ...(req.ip ? { clientIp: req.ip } : {}),
    ...(req.get("user-agent") ? { userAgent: req.get("user-agent")!.replaceAll("\u0000", "").slice(0, 1024) } : {}),
    ...(req.principal!.session === undefined ? {} : { sessionId: req.principal!.session.id }),
  };
}

/**
 * Test before saving (docs/api.md "Testing a destination"): a spec with inline secrets runs through the
 * operator's own testers, stage by stage, and the answer is 200 whether the test passed or not.
 */
export function configTestRouter(deps: { pool: Pool; resolver: ApiKeyResolver; log: Logger; options: ConfigTestOptions }): Router {
  const r = Router();
  const scope = requireScope(deps.resolver, "config:test");
  const limiter = new TenantRateLimiter({ perMinute: deps.options.perMinute, burst: deps.options.burst });
  const egress = deps.options.egress;

  const admit = (req: Request) => {
    const wait = limiter.take(req.principal!.tenant);
    if (wait > 0) throw new Problem(429, "rate_limited", `at most ${deps.options.perMinute} tests per minute (bursts of ${deps.options.burst}) per tenant; retry in ${wait} s`, undefined, { retryAfterSeconds: wait });
  };
  const clientGone = (res: Response) => {
    const controller = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) controller.abort(new DOMException("the client went away", "AbortError"));
    });
    return controller.signal;
  };
  const record = async (req: Request, event: ParsedEventInput, report: StagedTestReport, kind: string) => {
    await inTransaction(deps.pool, (c) => appendAuditEvent(c, req.principal!.tenant, event));
    // Only the outcome: the message may quote the peer, and the peer may quote what it was sent.
    deps.log.info("configuration test", { tenant: req.principal!.tenant, kind, ok: report.ok, reason: report.reason, durationMs: report.durationMs });
  };

  r.post("/v1/destinations/test", scope, jsonBody(), async (req, res) => {
    const { spec, secrets } = parseBody(req.body, logForwardingDestinationSpecSchema, (s) => secretRefsIn(s));
    admit(req);
    const report = await testDestinationSpec(spec, secrets, { egress, signal: clientGone(res) });
    const type = destinationKindOf(spec)!;
    await record(req, testEvent(req, "audit.destination.test", "log_forwarding_destination", type, report), report, type);
    res.json(report);
  });

  r.post("/v1/recording-storages/test", scope, jsonBody(), async (req, res) => {
    const { spec, secrets } = parseBody(req.body, recordingStorageSpecSchema, secretRefsOfRecordingStorage);
    admit(req);
    const report = await testRecordingStorageSpec(spec, secrets, { egress, signal: clientGone(res) });
    await record(req, testEvent(req, "audit.recording_storage.test", "recording_storage", "s3", report), report, "s3");
    res.json(report);
  });
  return r;
}
