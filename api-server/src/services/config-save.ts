import { crdApiVersion } from "@trailkeeper/core/crd/common.ts";
import { inTransaction, type Pool } from "@trailkeeper/core/db/pool.ts";
import { gitopsManagerOf } from "@trailkeeper/core/gitops.ts";
import { tenantForNamespace } from "@trailkeeper/core/tenancy.ts";
import { KubeError, OwnershipTestFailed, type ConfigCluster, type ConfigPlural, type CustomResourceObject } from "../kube/types.ts";
import { Problem } from "../problem.ts";
import type { ApiKeyPrincipal } from "./api-keys.ts";
import { appendAuditEvent } from "./audit-events.ts";

/** The label on every Secret the API server writes; it never writes one without it (docs/api.md "Save"). */
export const managedByLabel = "app.kubernetes.io/managed-by";
export const managedByApiServer = "trailkeeper-api-server";

/** The annotation the operator's forwarding supervisor reads (operator/src/forwarding/replay.ts). */
export const replayAnnotation = "trailkeeper.dev/replay-from";

export type ConfigKind = "LogForwardingDestination" | "RecordingStorage";

export const pluralOf: Record<ConfigKind, ConfigPlural> = { LogForwardingDestination: "logforwardingdestinations", RecordingStorage: "recordingstorages" };
/** The audit action prefix and resource type of each kind. */
const auditNames: Record<ConfigKind, { action: string; resource: string }> = {
  LogForwardingDestination: { action: "audit.destination", resource: "log_forwarding_destination" },
  RecordingStorage: { action: "audit.recording_storage", resource: "recording_storage" },
};

export interface ConfigSaveDeps {
  pool: Pool;
  /** Undefined when Save through Kubernetes is off. */
  cluster: ConfigCluster | undefined;
  /** The namespaces writes are limited to; empty: any namespace bound to the caller's tenant. */
  namespaces: readonly string[];
}

/** Inline Secret values by Secret name and key, as the request carries them. */
export type InlineSecrets = Record<string, Record<string, string>>;

export function clusterOf(deps: ConfigSaveDeps): ConfigCluster {
  if (deps.cluster === undefined) {
    throw new Problem(409, "kubernetes_access_disabled", "this server has no Kubernetes access (TRAILKEEPER_KUBERNETES_ACCESS); apply the manifests with kubectl or GitOps instead");
  }
  return deps.cluster;
}

/** A Kubernetes API failure as the problem the client should see. */
export function kubeProblem(err: unknown): unknown {
  if (err instanceof Problem) return err;
  if (!(err instanceof KubeError)) {
    // The Kubernetes API could not be reached: this step wrote nothing, and the client may retry.
    const message = err instanceof Error ? err.message : String(err);
    return new Problem(503, "kubernetes_unavailable", `the Kubernetes API could not be reached: ${message.slice(0, 200)}`, undefined, { retryAfterSeconds: 5 });
  }
  if (err.status === 409 || err.status === 404) return new Problem(409, "conflict", `the object changed while it was being saved; reload and try again (${err.message.slice(0, 300)})`);
  if (err.status === 422 || err.status === 400) return new Problem(400, "invalid_request", `the Kubernetes API refused the object: ${err.message.slice(0, 500)}`);
  if (err.status === 403) return new Problem(403, "kubernetes_forbidden", `the API server's ServiceAccount may not do this: ${err.message.slice(0, 500)}`);
  return new Problem(503, "kubernetes_unavailable", `the Kubernetes API answered ${err.status}: ${err.message.slice(0, 300)}`, undefined, { retryAfterSeconds: 5 });
}

/** Runs a step against the Kubernetes API, mapping its failures to problems. */
export async function kube<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw kubeProblem(err);
  }
}

/**
 * Throws 404 namespace_not_bound unless the live Namespace serves `tenant` (label or name, core/src/tenancy.ts) and
 * is among the configured namespaces. A missing namespace and another tenant's look the same, so names do not leak.
 */
export async function requireBoundNamespace(deps: ConfigSaveDeps, cluster: ConfigCluster, tenant: string, namespace: string): Promise<void> {
  const notBound = new Problem(404, "namespace_not_bound", `namespace ${namespace} is not bound to tenant ${tenant}`);
  if (deps.namespaces.length > 0 && !deps.namespaces.includes(namespace)) throw notBound;
  const live = await kube(() => cluster.readNamespace(namespace));
  const resolved = live === undefined ? undefined : tenantForNamespace(live);
  if (!resolved?.ok || resolved.tenant !== tenant) throw notBound;
}

/** The namespaces bound to `tenant` that this server may write in, by name. */
export async function boundNamespaces(deps: ConfigSaveDeps, cluster: ConfigCluster, tenant: string): Promise<string[]> {
  const all = await kube(() => cluster.listNamespaces());
  return all
    .filter((ns) => deps.namespaces.length === 0 || deps.namespaces.includes(ns.metadata.name))
    .filter((ns) => {
      const t = tenantForNamespace(ns);
      return t.ok && t.tenant === tenant;
    })
    .map((ns) => ns.metadata.name)
    .sort();
}

/** Throws 409 gitops_managed when Argo CD or Flux tracks the live object: their next sync would undo the change. */
export function refuseGitopsManaged(existing: CustomResourceObject | undefined): void {
  const manager = existing === undefined ? null : gitopsManagerOf(existing.metadata);
  if (manager !== null) {
    throw new Problem(409, "gitops_managed", `${existing!.kind} ${existing!.metadata.namespace}/${existing!.metadata.name} is managed by ${manager.tool === "argocd" ? "Argo CD" : "Flux"} (${manager.reason}); change it in its Git repository`);
  }
}

const owner = { label: managedByLabel, value: managedByApiServer };
const base64 = (values: Record<string, string>) => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v, "utf8").toString("base64")]));

/**
 * Creates each inline Secret with the API server's label, or, when it exists, adds or replaces the given keys (the
 * others keep their values) with a patch that first tests for that label. The server holds no `get` on Secrets:
 * it never reads one, and one it did not create is refused (409 secret_not_managed) by the patch's test, atomically.
 * A dry run of every write comes first, so a refusal of the second Secret leaves the first unchanged too.
 */
export async function writeInlineSecrets(cluster: ConfigCluster, namespace: string, secrets: InlineSecrets): Promise<void> {
  const names = Object.keys(secrets).sort();
  for (const dryRun of [true, false]) {
    for (const name of names) await writeSecret(cluster, namespace, name, base64(secrets[name]!), dryRun);
  }
}

async function writeSecret(cluster: ConfigCluster, namespace: string, name: string, data: Record<string, string>, dryRun: boolean): Promise<void> {
  try {
    await cluster.createSecret(namespace, { metadata: { name, namespace, labels: { [owner.label]: owner.value } }, type: "Opaque", data }, dryRun);
    return;
  } catch (err) {
    if (!(err instanceof KubeError && err.status === 409)) throw kubeProblem(err);
  }
  try {
    await cluster.patchOwnedSecret(namespace, name, data, owner, dryRun);
  } catch (err) {
    if (err instanceof OwnershipTestFailed) {
      throw new Problem(409, "secret_not_managed", `Secret ${namespace}/${name} exists and is not managed by the API server (no label ${managedByLabel}=${managedByApiServer}); update it yourself, or reference another Secret`);
    }
    throw kubeProblem(err);
  }
}

export interface SavedResource {
  namespace: string;
  name: string;
  created: boolean;
  generation: number;
}

/** Creates the resource, or replaces the spec of the one read (its resourceVersion makes a concurrent write a 409). */
export async function writeResource(cluster: ConfigCluster, kind: ConfigKind, namespace: string, name: string, spec: Record<string, unknown>, existing: CustomResourceObject | undefined): Promise<SavedResource> {
  const plural = pluralOf[kind];
  const written = existing === undefined
    ? await kube(() => cluster.createResource(plural, namespace, { apiVersion: crdApiVersion, kind, metadata: { name, namespace, labels: { [managedByLabel]: managedByApiServer } }, spec }))
    : await kube(() => cluster.replaceResource(plural, namespace, { ...existing, spec }));
  return { namespace, name, created: existing === undefined, generation: written.metadata.generation ?? 0 };
}

export interface AuditOrigin {
  principal: ApiKeyPrincipal;
  ip?: string | undefined;
  userAgent?: string | undefined;
}

/**
 * Records a configuration write in the tenant's chain: after Kubernetes accepted it, or as a failure when it was
 * refused. Never a secret value.
 */
export async function recordConfigWrite(pool: Pool, origin: AuditOrigin, kind: ConfigKind, verb: string, target: { namespace: string; name: string }, details: Record<string, unknown>, outcome: "success" | "failure" = "success"): Promise<void> {
  const { principal } = origin;
  const names = auditNames[kind];
  const ua = origin.userAgent?.replaceAll("\u0000", "").slice(0, 1024);
  await inTransaction(pool, (client) =>
    appendAuditEvent(client, principal.tenant, {
      actor: { id: principal.keyId, type: principal.session?.via === "link" ? "user" : "service" },
      action: `${names.action}.${verb}`,
      resource: { type: names.resource, id: `${target.namespace}/${target.name}`, name: target.name },
      outcome,
      details: { namespace: target.namespace, name: target.name, ...details },
      ...(principal.session ? { sessionId: principal.session.id } : {}),
      ...(origin.ip ? { clientIp: origin.ip } : {}),
      ...(ua ? { userAgent: ua } : {}),
    }),
  );
}

/** A replay annotation value for `requested`, spelled differently from `current` so the operator applies it again. */
export function distinctReplayValue(requested: string, current: string | undefined): string {
  if (requested !== current) return requested;
  // A leading zero names the same event (seq:01 is seq:1).
  if (requested.startsWith("seq:")) return requested.length < 19 ? `seq:0${requested.slice(4)}` : requested;
  // Each distinct value is applied once (docs/operator.md): more fractional zeros name the same instant.
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(requested);
  if (!m) return requested;
  return `${m[1]}${m[2] ?? "."}0${m[3]}`;
}
