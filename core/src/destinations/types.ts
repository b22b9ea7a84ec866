import type { CheckOutcome, CheckResult } from "../checks/check-result.ts";
import type { DestinationConfig, DestinationKind } from "../crd/destination-blocks.ts";
import type { EgressPolicy } from "../net/egress.ts";
import type { SecretSource } from "../secrets.ts";

export type { DestinationConfig, DestinationKind };

/** Everything a destination kind needs to be built; the operator resolves the secrets before. */
export interface DestinationInput<K extends DestinationKind> {
  kind: K;
  config: DestinationConfig<K>;
  secrets: SecretSource;
  egress: EgressPolicy;
  /** Per-request and per-check time limit (spec.timeout). */
  timeoutMs: number;
}

/**
 * What each destination kind implements, in `core/src/destinations/<kind>/`. Timeouts, latency and error
 * classification of checks are applied around it by `createDestination`, once for all kinds.
 *
 * The forwarding issue adds the delivery side to the same driver, with the same division of labour (retry,
 * backoff and failure classification stay outside, in core/src/forwarding/):
 *   limits, encodedSize(event), send(batch, signal): Promise<SendOutcome>
 * — one protocol request for a batch already within the kind's limits, reporting per event whether it was
 * delivered, rejected for good (dead letter) or should be retried (see `EventSender` in
 * core/src/forwarding/types.ts). Its factory then returns `DestinationDriver & EventSender`, and the registry's
 * mapped type keeps forcing one entry per CRD kind.
 */
export interface DestinationDriver {
  /** Tests connectivity and credentials, writing as little as the protocol allows (see docs/crds.md). */
  check(signal: AbortSignal): Promise<CheckOutcome>;
  /** Releases sockets and agents; the driver is not used afterwards. */
  close(): Promise<void>;
}

export type DestinationFactory<K extends DestinationKind> = (input: DestinationInput<K>) => DestinationDriver;

export interface CheckContext {
  /** Aborts the check from outside (shutdown, lost leadership); the timeout comes from the spec. */
  signal?: AbortSignal;
}

/** A destination as the operator and the forwarder use it. */
export interface Destination {
  readonly kind: DestinationKind;
  check(ctx?: CheckContext): Promise<CheckResult>;
  close(): Promise<void>;
}
