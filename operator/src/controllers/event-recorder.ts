import { crdApiVersion } from "@trailkeeper/core/crd/common.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import type { KubeGateway } from "../kube/gateway.ts";
import type { CustomObject } from "../kube/types.ts";
import type { OperatorMetrics } from "../metrics.ts";
import type { EventDraft } from "./status.ts";

export const reportingController = "trailkeeper.dev/operator";

export type EventRecorder = (kind: string, object: CustomObject, draft: EventDraft) => Promise<void>;

/** Emits events.k8s.io/v1 Events; a failure is logged and counted but never fails the reconcile that caused it. */
export function createEventRecorder(gateway: Pick<KubeGateway, "createEvent">, instance: string, metrics: OperatorMetrics, logger: Logger): EventRecorder {
  return async (kind, object, draft) => {
    const { name, namespace = "", uid, resourceVersion } = object.metadata;
    try {
      await gateway.createEvent(
        { regarding: { apiVersion: crdApiVersion, kind, namespace, name, uid, resourceVersion }, type: draft.type, reason: draft.reason, action: "ConnectivityCheck", note: draft.note },
        { controller: reportingController, instance },
      );
      metrics.events.inc({ kind, type: draft.type, result: "ok" });
    } catch (err) {
      metrics.events.inc({ kind, type: draft.type, result: "error" });
      logger.warn("could not emit event", { kind, namespace, name, reason: draft.reason, err });
    }
  };
}
