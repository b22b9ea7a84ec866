import { parseDuration } from "@trailkeeper/core/crd/duration.ts";
import {
  destinationFormatOf,
  destinationKindOf,
  logForwardingDestinationNames,
  logForwardingDestinationSpecSchema,
  type LogForwardingDestinationSpec,
} from "@trailkeeper/core/crd/log-forwarding-destination.ts";
import { secretRefsIn } from "@trailkeeper/core/crd/secret-refs.ts";
import { createDestination } from "@trailkeeper/core/destinations/registry.ts";
import { parseWith, type CheckedKind } from "./checked-kind.ts";

/** LogForwardingDestination: tested by the core destination registry, keyed by the spec's one destination block. */
export const logForwardingDestinationKind: CheckedKind<LogForwardingDestinationSpec> = {
  kind: logForwardingDestinationNames.kind,
  resource: logForwardingDestinationNames.plural,
  parseSpec: (raw) => parseWith(logForwardingDestinationSpecSchema, raw),
  secretRefs: (spec) => secretRefsIn(spec),
  enabled: (spec) => spec.enabled,
  checkIntervalMs: (spec) => parseDuration(spec.checkInterval),
  checkType: (spec) => destinationKindOf(spec) ?? "unknown",
  statusType: (spec) => destinationKindOf(spec),
  statusFormat: (spec) => destinationFormatOf(spec),
  tester: (spec, deps) => createDestination(spec, deps),
};
