import type { DestinationKind } from "@trailkeeper/core/crd/destination-blocks.ts";
import type { LogForwardingDestinationSpec } from "@trailkeeper/core/crd/log-forwarding-destination.ts";
import type { SecretSource } from "@trailkeeper/core/secrets.ts";

/** An enabled LogForwardingDestination with everything a forwarder needs, resolved by the reconciler. */
export interface ResolvedDestination {
  /** `namespace/name`. */
  key: string;
  namespace: string;
  name: string;
  /** Keys the durable delivery cursor: a deleted and recreated resource starts afresh. */
  uid: string;
  tenant: string;
  kind: DestinationKind;
  /** Validated, with the CRD defaults applied. */
  spec: LogForwardingDestinationSpec;
  /** Values of the Secret keys the spec references, as read for the latest check. */
  secrets: SecretSource;
  /** Changes whenever spec, Secrets, tenant or identity change: a forwarder restarts when it does. */
  revision: string;
}

export type CatalogListener = (key: string, destination: ResolvedDestination | undefined) => void;

/**
 * The destinations the leader currently serves. The LogForwardingDestination reconciler publishes each one after
 * resolving it and withdraws it when it is deleted, disabled, invalid or its Secrets or tenant cannot be resolved;
 * the catalog is emptied when leadership ends. The forwarding engine subscribes and starts, restarts (on a new
 * `revision`) or stops one forwarder per key.
 */
export class DestinationCatalog {
  readonly #entries = new Map<string, ResolvedDestination>();
  readonly #listeners = new Set<CatalogListener>();

  get(key: string): ResolvedDestination | undefined {
    return this.#entries.get(key);
  }

  list(): ResolvedDestination[] {
    return [...this.#entries.values()];
  }

  /** Calls `listener` for every current entry, then for every change; returns the unsubscribe function. */
  subscribe(listener: CatalogListener): () => void {
    this.#listeners.add(listener);
    for (const [key, d] of this.#entries) listener(key, d);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Publishes or withdraws `key`; listeners hear only real changes (a new revision). The entry is replaced either
   * way, so it always carries the latest resolved Secrets.
   */
  set(key: string, destination: ResolvedDestination | undefined): void {
    const old = this.#entries.get(key);
    if (destination === undefined) {
      if (old === undefined) return;
      this.#entries.delete(key);
    } else {
      this.#entries.set(key, destination);
      if (old !== undefined && old.revision === destination.revision) return;
    }
    for (const listener of this.#listeners) listener(key, destination);
  }

  clear(): void {
    for (const key of [...this.#entries.keys()]) this.set(key, undefined);
  }
}
