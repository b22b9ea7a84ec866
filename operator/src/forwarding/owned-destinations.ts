import { destinationKindOf, type LogForwardingDestinationSpec } from "@trailkeeper/core/crd/log-forwarding-destination.ts";
import { secretNames } from "@trailkeeper/core/crd/secret-refs.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import type { CheckedKind } from "../controllers/checked-kind.ts";
import { DestinationCatalog, type ResolvedDestination } from "../controllers/destination-catalog.ts";
import { checkFingerprint, resolveSecrets, resolveTenant } from "../controllers/inputs.ts";
import type { CustomObject, NamespaceObject, SecretObject } from "../kube/types.ts";
import { objectKey, type Informer } from "../runtime/informer.ts";

/** What is used of an informer: its cache and its notifications. */
type Cache<T extends CustomObject | SecretObject | NamespaceObject> = Pick<Informer<T>, "addHandler" | "get" | "list">;
import { ownerOf } from "./assignment.ts";

export interface OwnedDestinationsDeps {
  /** This replica's member identity. */
  identity: string;
  kind: CheckedKind<LogForwardingDestinationSpec>;
  objects: Cache<CustomObject>;
  /** Metadata only: their resourceVersions tell when a destination must be resolved again. */
  secrets: Cache<SecretObject>;
  namespaces: Cache<NamespaceObject>;
  readSecret: (namespace: string, name: string) => Promise<SecretObject | undefined>;
  logger: Logger;
  /** Delay before resolving again after the API failed to answer. */
  retryMs?: number;
}

/**
 * The enabled LogForwardingDestinations this replica forwards: those that rendezvous hashing over the live members
 * gives it, resolved from its own caches with the reconciler's inputs (spec, enabled, tenant, Secrets, fingerprint)
 * but without connectivity checks or status writes, which stay with the leader. The supervisor serves `catalog`.
 */
export class OwnedDestinations {
  readonly catalog = new DestinationCatalog();
  readonly #d: OwnedDestinationsDeps;
  /** What each published entry was resolved from, so Secrets are read again only when an input changed. */
  readonly #inputs = new Map<string, string>();
  #members: readonly string[] = [];
  #started = false;
  #busy: Promise<void> | undefined;
  #again = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(deps: OwnedDestinationsDeps) {
    this.#d = deps;
  }

  /** Starts following the caches; call once they are synced. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const changed = () => this.#schedule();
    const handler = { added: changed, updated: changed, deleted: changed, resynced: changed };
    this.#d.objects.addHandler(handler);
    this.#d.secrets.addHandler(handler);
    this.#d.namespaces.addHandler(handler);
    this.#schedule();
  }

  /** The live members (empty: this replica forwards nothing). */
  setMembers(members: readonly string[]): void {
    this.#members = members;
    this.#schedule();
  }

  /** Resolves once no sweep is running or due. */
  async settled(): Promise<void> {
    while (this.#busy) await this.#busy;
  }

  /** Withdraws everything (the supervisor then stops every forwarder). */
  async stop(): Promise<void> {
    this.#started = false;
    clearTimeout(this.#retry);
    await this.settled();
    this.catalog.clear();
    this.#inputs.clear();
  }

  /** Sweeps are level-based and run one at a time; a change during one triggers one more. */
  #schedule(): void {
    if (!this.#started) return;
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#busy = this.#sweep()
      .catch((err: unknown) => this.#d.logger.error("resolving owned destinations failed", { err }))
      .finally(() => {
        this.#busy = undefined;
        if (this.#again) {
          this.#again = false;
          this.#schedule();
        }
      });
  }

  async #sweep(): Promise<void> {
    const present = new Set<string>();
    for (const object of this.#d.objects.list()) {
      const key = objectKey(object);
      present.add(key);
      const owned = object.metadata.deletionTimestamp === undefined && ownerOf(object.metadata.uid ?? "", this.#members) === this.#d.identity;
      if (!owned || !this.#started) this.#publish(key, undefined, undefined);
      else await this.#resolveOne(key, object);
    }
    for (const d of this.catalog.list()) if (!present.has(d.key)) this.#publish(d.key, undefined, undefined);
  }

  /** Resolves one owned destination as its reconcile does; an unresolvable one is withdrawn, as there. */
  async #resolveOne(key: string, object: CustomObject): Promise<void> {
    const parsed = this.#d.kind.parseSpec(object.spec);
    if (!parsed.ok || !this.#d.kind.enabled(parsed.spec)) return this.#publish(key, undefined, undefined);
    const namespace = object.metadata.namespace ?? "";
    const tenant = resolveTenant(this.#d.namespaces.get(namespace));
    // The Namespace not cached yet: its arrival triggers another sweep.
    if (tenant === undefined || !tenant.ok) return this.#publish(key, undefined, undefined);
    const refs = this.#d.kind.secretRefs(parsed.spec);
    const inputs = JSON.stringify([object.metadata.uid, object.metadata.generation, tenant.tenant, secretNames(refs).map((n) => this.#d.secrets.get(`${namespace}/${n}`)?.metadata.resourceVersion)]);
    if (this.#inputs.get(key) === inputs && this.catalog.get(key) !== undefined) return;
    try {
      const secrets = await resolveSecrets((name) => this.#d.readSecret(namespace, name), refs);
      if (!secrets.ok) return this.#publish(key, undefined, undefined);
      const fingerprint = checkFingerprint(object.metadata.uid ?? "", object.metadata.generation ?? 0, secrets.versions);
      this.#publish(key, {
        key, namespace, name: object.metadata.name, uid: object.metadata.uid ?? "", tenant: tenant.tenant,
        kind: destinationKindOf(parsed.spec)!, spec: parsed.spec, secrets: secrets.source, revision: `${fingerprint}|${tenant.tenant}`,
      }, inputs);
    } catch (err) {
      // The API did not answer: keep serving what was resolved before, and try again shortly.
      this.#d.logger.warn("reading a destination's Secrets failed; retrying", { destination: key, err });
      clearTimeout(this.#retry);
      this.#retry = setTimeout(() => this.#schedule(), this.#d.retryMs ?? 5000);
    }
  }

  #publish(key: string, d: ResolvedDestination | undefined, inputs: string | undefined): void {
    if (inputs === undefined) this.#inputs.delete(key);
    else this.#inputs.set(key, inputs);
    this.catalog.set(key, d);
  }
}
