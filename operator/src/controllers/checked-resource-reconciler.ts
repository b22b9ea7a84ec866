import type { CheckResult } from "@trailkeeper/core/checks/check-result.ts";
import type { EgressPolicy } from "@trailkeeper/core/net/egress.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import type { SecretSource } from "@trailkeeper/core/secrets.ts";
import type { KubeGateway } from "../kube/gateway.ts";
import type { CustomObject, NamespaceObject } from "../kube/types.ts";
import type { OperatorMetrics } from "../metrics.ts";
import type { Random } from "../runtime/backoff.ts";
import type { ReconcileResult, Reconciler } from "../runtime/controller.ts";
import type { CheckedKind } from "./checked-kind.ts";
import { readOwnedStatus, type OwnedStatus } from "./conditions.ts";
import type { EventRecorder } from "./event-recorder.ts";
import { checkDue, checkFingerprint, resolveSecrets, resolveTenant, type CheckMemo } from "./inputs.ts";
import { decideStatus, nextCheckAt, type Observation, type ShownFields } from "./status.ts";

/** What a reconcile resolved for an enabled, valid resource; published for the forwarding engine. */
export interface Resolved<S> {
  object: CustomObject;
  spec: S;
  tenant: string;
  secrets: SecretSource;
  fingerprint: string;
}

export interface ReconcilerDeps<S> {
  objects: { get(key: string): CustomObject | undefined };
  namespaces: { get(key: string): NamespaceObject | undefined };
  gateway: Pick<KubeGateway, "readSecret" | "patchStatus">;
  recordEvent: EventRecorder;
  egress: EgressPolicy;
  metrics: OperatorMetrics;
  logger: Logger;
  /** Called after every reconcile: the resolved resource, or undefined when it is gone, disabled or unresolvable. */
  publish?: (key: string, resolved: Resolved<S> | undefined) => void;
  now?: () => number;
  random?: Random;
}

/** A reconcile that ended because leadership or the process ended; nothing is written. */
export class ReconcileCancelled extends Error {
  constructor() {
    super("reconcile cancelled");
    this.name = "ReconcileCancelled";
  }
}

/** The cache has not yet seen the resource's Namespace; retried with backoff rather than reported. */
class NamespaceNotCached extends Error {}

/**
 * Level-based reconcile shared by the tested kinds: re-read the object, resolve its tenant and Secrets, test
 * connectivity when due, and write the status `decideStatus` computes through /status, only when it changed.
 */
export class CheckedResourceReconciler<S> implements Reconciler {
  readonly #kind: CheckedKind<S>;
  readonly #d: ReconcilerDeps<S>;
  readonly #now: () => number;
  readonly #memo = new Map<string, CheckMemo>();

  constructor(kind: CheckedKind<S>, deps: ReconcilerDeps<S>) {
    this.#kind = kind;
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  async reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    const object = this.#d.objects.get(key);
    if (object === undefined || object.metadata.deletionTimestamp !== undefined) {
      this.#memo.delete(key);
      this.#d.publish?.(key, undefined);
      return {};
    }
    const namespace = object.metadata.namespace ?? "";
    const parsed = this.#kind.parseSpec(object.spec);
    if (!parsed.ok) return this.#withdraw(key, object, { kind: "invalidSpec", message: parsed.message }, {}, signal);
    const spec = parsed.spec;
    const shown: ShownFields = { type: this.#kind.statusType(spec), format: this.#kind.statusFormat?.(spec) };
    if (!this.#kind.enabled(spec)) return this.#withdraw(key, object, { kind: "disabled" }, shown, signal);

    const tenant = resolveTenant(this.#d.namespaces.get(namespace));
    if (tenant === undefined) throw new NamespaceNotCached(`namespace ${namespace} is not in the cache yet`);
    if (!tenant.ok) return this.#withdraw(key, object, { kind: "blocked", reason: tenant.reason, message: tenant.message }, shown, signal);
    const secrets = await resolveSecrets((name) => this.#d.gateway.readSecret(namespace, name), this.#kind.secretRefs(spec));
    if (!secrets.ok) return this.#withdraw(key, object, { kind: "blocked", reason: secrets.reason, message: secrets.message }, shown, signal);

    const fingerprint = checkFingerprint(object.metadata.uid ?? "", object.metadata.generation ?? 0, secrets.versions);
    let memo = this.#memo.get(key);
    let previous = readOwnedStatus(object.status);
    let resourceVersion = object.metadata.resourceVersion;
    if (memo === undefined || checkDue(memo, fingerprint, this.#now())) {
      if (previous.observedGeneration !== object.metadata.generation) {
        // Acknowledge the new generation before a check that may take up to its timeout.
        const ack = await this.#write(object, { kind: "checking" }, shown, previous, resourceVersion, signal);
        previous = ack.status;
        resourceVersion = ack.resourceVersion;
      }
      memo = await this.#check(spec, secrets.source, fingerprint, previous, signal);
      this.#memo.set(key, memo);
    }
    const observation: Observation = { kind: "checked", result: memo.result, at: memo.at, nextCheckAt: memo.nextCheckAt };
    const written = await this.#write(object, observation, shown, previous, resourceVersion, signal);
    this.#d.publish?.(key, { object, spec, tenant: tenant.tenant, secrets: secrets.source, fingerprint: `${fingerprint}|${tenant.tenant}` });
    return { requeueAfterMs: written.requeueAfterMs };
  }

  /** Reports a state in which the resource is not tested, and stops serving it. */
  async #withdraw(key: string, object: CustomObject, observation: Observation, shown: ShownFields, signal: AbortSignal): Promise<ReconcileResult> {
    this.#d.publish?.(key, undefined);
    const written = await this.#write(object, observation, shown, readOwnedStatus(object.status), object.metadata.resourceVersion, signal);
    return { requeueAfterMs: written.requeueAfterMs };
  }

  async #check(spec: S, secrets: SecretSource, fingerprint: string, previous: Partial<OwnedStatus>, signal: AbortSignal): Promise<CheckMemo> {
    // The term may have ended while this reconcile waited for its status write: start no connection then.
    if (signal.aborted) throw new ReconcileCancelled();
    const type = this.#kind.checkType(spec);
    const tester = this.#kind.tester(spec, { secrets, egress: this.#d.egress });
    let result: CheckResult;
    try {
      result = await tester.check({ signal });
    } finally {
      await tester.close().catch(() => {});
    }
    if (signal.aborted) throw new ReconcileCancelled();
    this.#d.metrics.checks.inc({ kind: this.#kind.kind, type, reason: result.reason });
    this.#d.metrics.checkDuration.observe({ kind: this.#kind.kind, type }, result.latencyMs / 1000);
    const at = this.#now();
    return { fingerprint, result, at, nextCheckAt: nextCheckAt(result, at, previous, this.#kind.checkIntervalMs(spec), this.#d.random) };
  }

  /** Writes the decided status when it differs from `previous`, guarded by `resourceVersion`; then emits events. */
  async #write(object: CustomObject, observation: Observation, shown: ShownFields, previous: Partial<OwnedStatus>, resourceVersion: string | undefined, signal: AbortSignal) {
    const decision = decideStatus({ generation: object.metadata.generation ?? 0, previous, observation, now: this.#now(), ...shown });
    if (!decision.changed) return { status: decision.status, resourceVersion, requeueAfterMs: decision.requeueAfterMs };
    if (signal.aborted) throw new ReconcileCancelled();
    const { name, namespace = "" } = object.metadata;
    // A merge patch keeps keys it does not mention; null removes an owned field the new status no longer has.
    const status = { ...decision.status, type: decision.status.type ?? null, format: decision.status.format ?? null, lastCheck: decision.status.lastCheck ?? null };
    const newVersion = await this.#d.gateway.patchStatus(this.#kind.resource, namespace, name, status, resourceVersion);
    this.#d.metrics.statusWrites.inc({ kind: this.#kind.kind });
    for (const draft of decision.events) await this.#d.recordEvent(this.#kind.kind, object, draft);
    return { status: decision.status, resourceVersion: newVersion, requeueAfterMs: decision.requeueAfterMs };
  }
}
