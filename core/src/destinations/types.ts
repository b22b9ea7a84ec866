import type { CheckDriver, Tester } from "../checks/checked-tester.ts";
import type { DestinationConfig, DestinationKind } from "../crd/destination-blocks.ts";
import type { FormatOf } from "../formats/formats.ts";
import type { EventSender } from "../forwarding/types.ts";
import type { EgressPolicy } from "../net/egress.ts";
import type { SecretSource } from "../secrets.ts";

export type { DestinationConfig, DestinationKind };

/** Everything a destination kind needs to be built; the operator resolves the secrets before. */
export interface DestinationInput<K extends DestinationKind> {
  kind: K;
  config: DestinationConfig<K>;
  /** spec.format, or the kind's default: the shape of every event sent, the connectivity probe included. */
  format: FormatOf<K>;
  secrets: SecretSource;
  egress: EgressPolicy;
  /** Per-request and per-check time limit (spec.timeout). */
  timeoutMs: number;
}

/**
 * What each destination kind implements, in `core/src/destinations/<kind>/`. Timeouts, latency and error
 * classification of checks are applied around it by `createDestination` (through checkedTester), once for all kinds.
 */
export type DestinationDriver = CheckDriver;

export type DestinationFactory<K extends DestinationKind> = (input: DestinationInput<K>) => DestinationDriver;

/** The delivery side needs two more facts than the check: who is sending, and as which host. */
export interface SenderInput<K extends DestinationKind> extends DestinationInput<K> {
  /** The LogForwardingDestination's uid; names webhook message ids so that they survive a restart. */
  destinationUid: string;
  /** This host's name for protocols that carry one (syslog HOSTNAME, Datadog `hostname`). */
  hostname: string;
}

/**
 * Each kind's delivery side (`<kind>/sender.ts`): one protocol request per batch, mapping the destination's answer
 * to per-event verdicts or a DeliveryError. Retry, backoff, bisecting and dead-lettering stay in
 * core/src/forwarding/, once for every kind.
 */
export type SenderFactory<K extends DestinationKind> = (input: SenderInput<K>) => EventSender;

/** A destination as the operator and the forwarder use it. */
export interface Destination extends Tester {
  readonly kind: DestinationKind;
}
