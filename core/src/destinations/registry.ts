import { failed, type CheckOutcome } from "../checks/check-result.ts";
import { outcomeOfError, runCheck } from "../checks/run-check.ts";
import { parseDuration } from "../crd/duration.ts";
import type { LogForwardingDestinationSpec } from "../crd/log-forwarding-destination.ts";
import { destinationKindOf } from "../crd/log-forwarding-destination.ts";
import { secretRefsIn } from "../crd/secret-refs.ts";
import type { EgressPolicy } from "../net/egress.ts";
import type { SecretSource } from "../secrets.ts";
import { datadogDestination } from "./datadog/datadog.ts";
import { elasticsearchDestination } from "./elasticsearch/elasticsearch.ts";
import { splunkHecDestination } from "./splunk-hec/splunk-hec.ts";
import { syslogDestination } from "./syslog/syslog.ts";
import type { Destination, DestinationConfig, DestinationDriver, DestinationFactory, DestinationKind } from "./types.ts";
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

export interface DestinationDeps {
  secrets: SecretSource;
  egress: EgressPolicy;
}

function buildDriver<K extends DestinationKind>(kind: K, config: DestinationConfig<K>, deps: DestinationDeps, timeoutMs: number): DestinationDriver {
  const factory: DestinationFactory<K> = destinationRegistry[kind];
  return factory({ kind, config, secrets: deps.secrets, egress: deps.egress, timeoutMs });
}

/**
 * Builds the destination a spec describes; the spec must already have passed logForwardingDestinationSpecSchema.
 * A driver that cannot be built — a missing Secret, an unreadable key — yields a destination whose check reports
 * why, so the caller has one path for every failure.
 */
export function createDestination(spec: LogForwardingDestinationSpec, deps: DestinationDeps): Destination {
  const kind = destinationKindOf(spec);
  if (kind === undefined) throw new Error("createDestination needs a validated spec with exactly one destination block");
  const timeoutMs = parseDuration(spec.timeout);
  const config = spec[kind] as DestinationConfig<typeof kind>;
  const missing = secretRefsIn(config).find((ref) => deps.secrets.get(ref) === undefined);
  if (missing !== undefined) return brokenDestination(kind, failed("SecretNotFound", `key "${missing.key}" of Secret "${missing.name}" not found`));
  let driver: DestinationDriver;
  try {
    driver = buildDriver(kind, config, deps, timeoutMs);
  } catch (err) {
    return brokenDestination(kind, outcomeOfError(err, false, timeoutMs));
  }
  return {
    kind,
    check: (ctx = {}) => runCheck((signal) => driver.check(signal), { timeoutMs, signal: ctx.signal }),
    close: () => driver.close(),
  };
}

function brokenDestination(kind: DestinationKind, outcome: CheckOutcome): Destination {
  return {
    kind,
    check: async () => ({ ...outcome, latencyMs: 0 }),
    close: async () => {},
  };
}
