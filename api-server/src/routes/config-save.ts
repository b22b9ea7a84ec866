import { Router, type Request, type Response } from "express";
import { z } from "zod";
import { secretDataKeySchema, secretNameSchema } from "@trailkeeper/core/crd/common.ts";
import { logForwardingDestinationSpecSchema } from "@trailkeeper/core/crd/log-forwarding-destination.ts";
import { restoreRedactedUrls } from "@trailkeeper/core/crd/mirrored-spec.ts";
import { recordingStorageSpecSchema } from "@trailkeeper/core/crd/recording-storage.ts";
import { secretRefsIn, secretRefsOfRecordingStorage } from "@trailkeeper/core/crd/secret-refs.ts";
import { requireScope } from "../auth.ts";
import { fieldErrors, Problem } from "../problem.ts";
import type { ApiKeyResolver } from "../services/api-keys.ts";
import {
  boundNamespaces, clusterOf, distinctReplayValue, kube, pluralOf, recordConfigWrite, refuseGitopsManaged, replayAnnotation,
  requireBoundNamespace, writeInlineSecrets, writeResource, type AuditOrigin, type ConfigKind, type ConfigSaveDeps, type InlineSecrets,
} from "../services/config-save.ts";
import type { CustomResourceObject } from "../kube/types.ts";
import { jsonBody } from "./json-body.ts";
import { parseQuery } from "./query-params.ts";

const namespaceSchema = z.string().max(63).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a namespace name (DNS-1123 label)");
const nameSchema = z.string().max(253).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "must be a resource name (DNS-1123 subdomain)");

/** Inline Secret values: at most a few Secrets of a few keys, each value text (UTF-8), as a form would send them. */
const secretsSchema = z.record(secretNameSchema, z.record(secretDataKeySchema, z.string().max(65_536)).refine((v) => Object.keys(v).length <= 16, "at most 16 keys")).refine((v) => Object.keys(v).length <= 8, "at most 8 Secrets");
const saveBodySchema = z.strictObject({
  spec: z.record(z.string(), z.unknown()),
  secrets: secretsSchema.optional(),
  /** The generation the spec was edited from (the mirror's): a resource changed since is not overwritten. */
  generation: z.int().min(1).optional(),
});
const toggleBodySchema = z.strictObject({ enabled: z.boolean() });
/** The forms the operator accepts in the annotation (operator/src/forwarding/replay.ts): an RFC 3339 time or seq:<n>. */
const replayBodySchema = z.strictObject({
  from: z.string().regex(/^(seq:\d{1,15}|\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d))$/, "must be an RFC 3339 time (2026-11-01T00:00:00Z) or seq:<n>")
    .refine((v) => v.startsWith("seq:") || !Number.isNaN(Date.parse(v)), "must be a valid time"),
});

const specSchemas = { LogForwardingDestination: logForwardingDestinationSpecSchema, RecordingStorage: recordingStorageSpecSchema } as const;

function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body);
  if (!r.success) throw new Problem(400, "invalid_request", "the request body is not valid", fieldErrors(r.error));
  return r.data;
}

function target(req: Request): { namespace: string; name: string } {
  const namespace = String(req.params.namespace);
  const name = String(req.params.name);
  // A namespace that cannot exist is bound to nobody; a bad name is the caller's to fix.
  if (!namespaceSchema.safeParse(namespace).success) throw new Problem(404, "namespace_not_bound", `namespace ${namespace.slice(0, 80)} is not bound to this tenant`);
  const n = nameSchema.safeParse(name);
  if (!n.success) throw new Problem(400, "invalid_request", "the resource name is not valid", fieldErrors(n.error, ["name"]));
  return { namespace, name };
}

/** Validates the spec with the CRD's schema and the inline Secrets against the spec's references. */
function validatedSave(kind: ConfigKind, body: unknown): { spec: Record<string, unknown>; secrets: InlineSecrets; generation: number | undefined } {
  const { spec, secrets = {}, generation } = parseBody(saveBodySchema, body);
  const parsed = specSchemas[kind].safeParse(spec);
  if (!parsed.success) throw new Problem(400, "invalid_request", `spec is not a valid ${kind} spec`, fieldErrors(parsed.error, ["spec"]));
  const refs = kind === "RecordingStorage" ? secretRefsOfRecordingStorage(parsed.data as z.output<typeof recordingStorageSpecSchema>) : secretRefsIn(parsed.data);
  const referenced = new Set(refs.map((r) => r.name));
  // Writing a Secret the resource does not use would let this route create arbitrary Secrets.
  const stray = Object.keys(secrets).filter((n) => !referenced.has(n));
  if (stray.length > 0) throw new Problem(400, "invalid_request", "inline secrets must be referenced by the spec", stray.map((n) => ({ path: `secrets.${n}`, message: "no secretRef of the spec names this Secret" })));
  return { spec, secrets, generation };
}

/**
 * Throws 409 conflict when the save was edited from `generation` and the live resource is gone or has another one:
 * saving would undo the changes made since (another save, kubectl, the mirror not caught up yet).
 */
function refuseStale(existing: CustomResourceObject | undefined, generation: number | undefined): void {
  if (generation === undefined || existing?.metadata.generation === generation) return;
  const now = existing === undefined ? "it no longer exists" : `it is at generation ${existing.metadata.generation ?? 0} now`;
  throw new Problem(409, "conflict", `the resource changed since it was loaded for editing (generation ${generation}; ${now}); reload it and edit again`);
}

/**
 * Whether a write refused because the object moved since it was read (its resourceVersion: the operator writes the
 * status, the mirror's leader annotations) is worth reading and writing again; ten times at most.
 */
async function retryable(err: unknown, attempt: number): Promise<boolean> {
  if (!(err instanceof Problem && err.code === "conflict") || attempt >= 10) return false;
  // A short random pause, so two writers that collided do not collide again at once.
  await new Promise((r) => setTimeout(r, 5 + Math.random() * 25));
  return true;
}

const specChanged = () => new Problem(409, "conflict", "the resource's spec changed while it was being saved; reload it and try again");

const originOf = (req: Request): AuditOrigin => ({ principal: req.principal!, ip: req.ip, userAgent: req.get("user-agent") });

/** Refusals worth a record in the tenant's trail: someone tried to change what they may not, or lost a race. */
const auditedRefusals = new Set(["gitops_managed", "secret_not_managed", "conflict", "kubernetes_forbidden"]);

/**
 * Save through the Kubernetes API (docs/api.md "Save"): create or update LogForwardingDestinations and
 * RecordingStorages with their Secrets, toggle and replay, in namespaces bound to the caller's tenant.
 */
export function configSaveRouter(deps: ConfigSaveDeps & { resolver: ApiKeyResolver }): Router {
  const r = Router();
  const read = requireScope(deps.resolver, "config:read");
  const write = requireScope(deps.resolver, "config:write");

  r.get("/v1/config/capabilities", read, async (req, res) => {
    parseQuery(req.query as Record<string, unknown>);
    if (deps.cluster === undefined) return void res.json({ save: "manifest", namespaces: [] });
    res.json({ save: "kubernetes", namespaces: await boundNamespaces(deps, deps.cluster, req.principal!.tenant) });
  });

  /** Runs a write, recording a refusal of it as a failure in the tenant's chain before answering. */
  async function auditRefusal<T>(req: Request, kind: ConfigKind, verb: () => string, where: { namespace: string; name: string }, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof Problem && auditedRefusals.has(err.code)) await recordConfigWrite(deps.pool, originOf(req), kind, verb(), where, { reason: err.code }, "failure");
      throw err;
    }
  }

  const save = (kind: ConfigKind) => async (req: Request, res: Response) => {
    const cluster = clusterOf(deps);
    const { namespace, name } = target(req);
    const { spec, secrets, generation } = validatedSave(kind, req.body);
    await requireBoundNamespace(deps, cluster, req.principal!.tenant, namespace);
    let verb = "update";
    const saved = await auditRefusal(req, kind, () => verb, { namespace, name }, async () => {
      let secretsWritten = false;
      let readAt: number | undefined;
      for (let attempt = 1; ; attempt++) {
        const existing = await kube(() => cluster.readResource(pluralOf[kind], namespace, name));
        if (existing === undefined) verb = "create";
        refuseGitopsManaged(existing);
        refuseStale(existing, generation);
        // A spec changed since the first read (its generation moved) is someone else's edit, which this save must not undo.
        if (readAt !== undefined && existing?.metadata.generation !== readAt) throw specChanged();
        readAt = existing?.metadata.generation;
        if (!secretsWritten) {
          // Secrets first, so the operator finds them when it sees the new spec.
          await writeInlineSecrets(cluster, namespace, secrets);
          secretsWritten = true;
        }
        try {
          // The console edits the mirror's copy, whose URLs lack their query strings: an unchanged URL keeps the stored one.
          return await writeResource(cluster, kind, namespace, name, restoreRedactedUrls(kind, spec, existing?.spec), existing);
        } catch (err) {
          if (existing === undefined || !(await retryable(err, attempt))) throw err;
        }
      }
    });
    await recordConfigWrite(deps.pool, originOf(req), kind, saved.created ? "create" : "update", saved, { generation: saved.generation, secrets: Object.keys(secrets).sort() });
    res.status(saved.created ? 201 : 200).json(saved);
  };
  r.put("/v1/destinations/:namespace/:name", write, jsonBody(), save("LogForwardingDestination"));
  r.put("/v1/recording-storages/:namespace/:name", write, jsonBody(), save("RecordingStorage"));

  /**
   * Reads a destination and writes what `change` makes of it, refusing what this server may not change; a refusal
   * is recorded under `verb`.
   */
  const editDestination = async (req: Request, verb: string, change: (existing: CustomResourceObject) => CustomResourceObject) => {
    const cluster = clusterOf(deps);
    const { namespace, name } = target(req);
    await requireBoundNamespace(deps, cluster, req.principal!.tenant, namespace);
    return auditRefusal(req, "LogForwardingDestination", () => verb, { namespace, name }, async () => {
      for (let attempt = 1; ; attempt++) {
        const existing = await kube(() => cluster.readResource("logforwardingdestinations", namespace, name));
        if (existing === undefined) throw new Problem(404, "unknown_destination", `no LogForwardingDestination ${namespace}/${name}`);
        refuseGitopsManaged(existing);
        try {
          const written = await kube(() => cluster.replaceResource("logforwardingdestinations", namespace, change(existing)));
          return { namespace, name, written };
        } catch (err) {
          // The change is made again on what is there now: another field or the status moving is no reason to refuse it.
          if (!(await retryable(err, attempt))) throw err;
        }
      }
    });
  };

  r.patch("/v1/destinations/:namespace/:name", write, jsonBody(), async (req, res) => {
    const { enabled } = parseBody(toggleBodySchema, req.body);
    const verb = enabled ? "enable" : "disable";
    const { namespace, name, written } = await editDestination(req, verb, (existing) => ({ ...existing, spec: { ...existing.spec, enabled } }));
    const generation = written.metadata.generation ?? 0;
    await recordConfigWrite(deps.pool, originOf(req), "LogForwardingDestination", verb, { namespace, name }, { generation });
    res.json({ namespace, name, enabled, generation });
  });

  r.post("/v1/destinations/:namespace/:name/replay", write, jsonBody(), async (req, res) => {
    const { from } = parseBody(replayBodySchema, req.body);
    let value = from;
    const { namespace, name } = await editDestination(req, "replay", (existing) => {
      value = distinctReplayValue(from, existing.metadata.annotations?.[replayAnnotation]);
      return { ...existing, metadata: { ...existing.metadata, annotations: { ...existing.metadata.annotations, [replayAnnotation]: value } } };
    });
    await recordConfigWrite(deps.pool, originOf(req), "LogForwardingDestination", "replay", { namespace, name }, { from: value });
    res.status(202).json({ namespace, name, from: value });
  });
  return r;
}
