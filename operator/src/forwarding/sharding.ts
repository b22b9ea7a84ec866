import client from "prom-client";
import type { Logger } from "@trailkeeper/core/log.ts";
import type { OperatorConfig } from "../config.ts";
import { logForwardingDestinationKind } from "../controllers/log-forwarding-destination.ts";
import type { OperatorInformers } from "../informers.ts";
import type { KubeGateway } from "../kube/gateway.ts";
import { Membership } from "../runtime/membership.ts";
import { OwnedDestinations } from "./owned-destinations.ts";
import type { ForwardingSupervisor } from "./supervisor.ts";

/** The label every member Lease carries; its value is the leader Lease's name, so two releases never mix. */
export const membersOfLabel = "trailkeeper.dev/members-of";

export interface Sharding {
  /** Joins the membership and forwards this replica's share; call once the caches are synced. */
  start(): void;
  /** Stops this replica's forwarders and releases their cursors, then leaves (deletes the member Lease). */
  stop(): Promise<void>;
}

/**
 * Forwarding across replicas (docs/operator.md): every replica is a member, owns the destinations rendezvous
 * hashing gives it, and serves them with the supervisor for the life of the process, not only while it leads.
 */
export function createSharding(o: { config: OperatorConfig; gateway: KubeGateway; informers: OperatorInformers; supervisor: ForwardingSupervisor; registry: client.Registry; logger: Logger }): Sharding {
  const { config, gateway, informers, supervisor } = o;
  const logger = o.logger.child({ component: "sharding" });
  const membership = new Membership({
    leases: gateway.leaseSet(config.LEASE_NAMESPACE, membersOfLabel, config.LEASE_NAME),
    setName: config.LEASE_NAME,
    identity: config.POD_NAME,
    leaseDurationMs: config.LEASE_DURATION_SECONDS * 1000,
    renewDeadlineMs: config.RENEW_DEADLINE_SECONDS * 1000,
    retryPeriodMs: config.RETRY_PERIOD_SECONDS * 1000,
    logger,
  });
  const owned = new OwnedDestinations({
    identity: config.POD_NAME,
    kind: logForwardingDestinationKind,
    objects: informers.logForwardingDestinations,
    secrets: informers.secrets,
    namespaces: informers.namespaces,
    readSecret: (namespace, name) => gateway.readSecret(namespace, name),
    logger,
  });
  const registers = [o.registry];
  new client.Gauge({ name: "trailkeeper_forward_destinations_owned", help: "Destinations this replica forwards now (holding their cursor)", registers, collect() { this.set(supervisor.running.length); } });
  new client.Gauge({ name: "trailkeeper_operator_forwarding_members", help: "Live operator replicas sharing the forwarding, as this replica sees them (0 while it cannot renew its own member Lease)", registers, collect() { this.set(membership.members.length); } });
  const life = new AbortController();
  return {
    start() {
      owned.start();
      membership.onChange((members) => owned.setMembers(members));
      membership.start();
      supervisor.serve(owned.catalog, life.signal);
    },
    async stop() {
      await owned.stop();
      await supervisor.stopAll();
      life.abort();
      await membership.stop();
    },
  };
}
