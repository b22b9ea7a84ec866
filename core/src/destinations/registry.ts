import { checkedTester } from "../checks/checked-tester.ts";
import { parseDuration } from "../crd/duration.ts";
import type { LogForwardingDestinationSpec } from "../crd/log-forwarding-destination.ts";
import { destinationKindOf } from "../crd/log-forwarding-destination.ts";
import { defaultFormatOf, type FormatOf } from "../formats/formats.ts";
import type { EgressPolicy } from "../net/egress.ts";
import type { SecretSource } from "../secrets.ts";
import { hostname as osHostname } from "node:os";
import type { EventSender } from "../forwarding/types.ts";
import { datadogDestination } from "./datadog/datadog.ts";
import { datadogSender } from "./datadog/sender.ts";
import { unavailableSender } from "./delivery.ts";
import { elasticsearchDestination } from "./elasticsearch/elasticsearch.ts";
import { elasticsearchSender } from "./elasticsearch/sender.ts";
import { splunkHecSender } from "./splunk-hec/sender.ts";
import { splunkHecDestination } from "./splunk-hec/splunk-hec.ts";
import { syslogSender } from "./syslog/sender.ts";
import { syslogDestination } from "./syslog/syslog.ts";
import type { Destination, DestinationConfig, DestinationDriver, DestinationFactory, DestinationKind, SenderFactory } from "./types.ts";
import { webhookSender } from "./webhook/sender.ts";
import { webhookDestination } from "./webhook/webhook.ts";

/**
 * Every destination kind, keyed by its CRD field name. The mapped type makes a kind that is in the CRD schema but
 * missing here a compile error, and a key that is not in the CRD one too.
 */
export const destinationRegistry: { readonly [K in DestinationKind]: DestinationFactory<K> } = {
  webhook: webhookDestination,
  splunkHec: splunkHecDestination,
  datadog: datadogDestination,
  elasticsearch: elasticsearchDestination,
  syslog: syslogDestination,
};

/** The delivery side of every kind, under the same compile-time guarantee: one sender per CRD kind, no more. */
export const senderRegistry: { readonly [K in DestinationKind]: SenderFactory<K> } = {
  webhook: webhookSender,
  splunkHec: splunkHecSender,
  datadog: datadogSender,
  elasticsearch: elasticsearchSender,
  syslog: syslogSender,
};

export interface DestinationDeps {
  secrets: SecretSource;
  egress: EgressPolicy;
}

export interface SenderDeps extends DestinationDeps {
  /** metadata.uid of the LogForwardingDestination (the delivery cursor's key). */
  destinationUid: string;
  /** This host's name in syslog HOSTNAME and Datadog `hostname`; default: the OS host name (the pod name). */
  hostname?: string;
}

/** The spec's one destination block; `caller` names who was handed a spec that skipped validation. */
function destinationBlock(spec: LogForwardingDestinationSpec, caller: string): { kind: DestinationKind; config: DestinationConfig<DestinationKind>; format: FormatOf<DestinationKind> } {
  const kind = destinationKindOf(spec);
  if (kind === undefined) throw new Error(`${caller} needs a validated spec with exactly one destination block`);
  // The schema has checked that the kind carries spec.format.
  const format = (spec.format ?? defaultFormatOf(kind)) as FormatOf<DestinationKind>;
  return { kind, config: spec[kind] as DestinationConfig<typeof kind>, format };
}

function buildDriver<K extends DestinationKind>(kind: K, config: DestinationConfig<K>, format: FormatOf<K>, deps: DestinationDeps, timeoutMs: number): DestinationDriver {
  const factory: DestinationFactory<K> = destinationRegistry[kind];
  return factory({ kind, config, format, secrets: deps.secrets, egress: deps.egress, timeoutMs });
}

/**
 * Builds the destination a spec describes; the spec must already have passed logForwardingDestinationSpecSchema.
 * A driver that cannot be built — a missing Secret (MissingSecretError, reported as SecretNotFound), an unreadable
 * key — yields a destination whose check reports why, so the caller has one path for every failure.
 */
export function createDestination(spec: LogForwardingDestinationSpec, deps: DestinationDeps): Destination {
  const { kind, config, format } = destinationBlock(spec, "createDestination");
  const timeoutMs = parseDuration(spec.timeout);
  return { kind, ...checkedTester(() => buildDriver(kind, config, format, deps, timeoutMs), timeoutMs) };
}

function buildSender<K extends DestinationKind>(kind: K, config: DestinationConfig<K>, format: FormatOf<K>, deps: SenderDeps, timeoutMs: number): EventSender {
  const factory: SenderFactory<K> = senderRegistry[kind];
  return factory({ kind, config, format, secrets: deps.secrets, egress: deps.egress, timeoutMs, destinationUid: deps.destinationUid, hostname: deps.hostname ?? osHostname() });
}

/**
 * Builds the delivery side of the destination a validated spec describes, from the same secrets and egress
 * policy as its check. A sender that cannot be built (a missing Secret, an unusable key) still comes back: it
 * fails every send, retryably, with the reason, so the cursor holds and the reason shows in status until fixed.
 */
export function createSender(spec: LogForwardingDestinationSpec, deps: SenderDeps): EventSender {
  const { kind, config, format } = destinationBlock(spec, "createSender");
  try {
    return buildSender(kind, config, format, deps, parseDuration(spec.timeout));
  } catch (err) {
    return unavailableSender(err instanceof Error ? err.message : String(err));
  }
}
