import type { Outcome, StoredEvent } from "../events/model.ts";
import { eventSummary } from "../destinations/event-summary.ts";
import { deviceProduct, deviceVendor } from "./fields.ts";
import { ocsfActivityOf, ocsfClassOf, type OcsfClass } from "./ocsf-classes.ts";
import { severityOf } from "./severity.ts";

/** The one OCSF schema version every event follows (metadata.version); test/fixtures/ocsf holds its JSON Schema. */
export const ocsfVersion = "1.3.0";

const statusOf: Record<Outcome, [number, string]> = { success: [1, "Success"], failure: [2, "Failure"], unknown: [0, "Unknown"] };

/** OCSF severity_id from our 0–10 scale: up to 4 Informational, 5–6 Low, 7+ Medium. */
function ocsfSeverity(event: StoredEvent): [number, string] {
  const s = severityOf(event.outcome, event.category);
  return s >= 7 ? [3, "Medium"] : s >= 5 ? [2, "Low"] : [1, "Informational"];
}

const userTypeIds = { user: [1, "User"], service: [99, "Service"], system: [3, "System"] } as const;

function actorUser(event: StoredEvent): Record<string, unknown> {
  const [typeId, type] = userTypeIds[event.actor.type];
  return { uid: event.actor.id, ...(event.actor.name === undefined ? {} : { name: event.actor.name }), type_id: typeId, type };
}

/** The resource as an OCSF user when it is an account (user.*, members), which IAM classes name as `user`. */
const isAccount = (type: string) => /^(user|account|member|service_account)$/i.test(type);
/** The resource as an OCSF `uid` + `name` pair (a user, a group, an entity). */
const named = (event: StoredEvent) => ({ uid: event.resource.id, ...(event.resource.name === undefined ? {} : { name: event.resource.name }) });
const typed = (event: StoredEvent) => ({ ...named(event), type: event.resource.type });

/** What each class requires or names beyond the common fields. */
function classFields(cls: OcsfClass, event: StoredEvent): Record<string, unknown> {
  switch (cls.name) {
    case "authentication":
      // The subject who authenticates is the actor.
      return { user: actorUser(event) };
    case "account_change":
      return { user: isAccount(event.resource.type) ? named(event) : actorUser(event) };
    case "group_management":
      return { group: named(event) };
    case "user_access":
      // The resource is either the account whose access changed or the privilege (role, policy) granted.
      return isAccount(event.resource.type)
        ? { user: named(event), privileges: [event.action] }
        : { user: {}, privileges: [event.resource.name ?? event.resource.id], resource: typed(event) };
    case "entity_management":
      return { entity: typed(event) };
    case "api_activity":
      return {
        api: { operation: event.action, ...(event.requestId === undefined ? {} : { request: { uid: event.requestId } }) },
        resources: [typed(event)],
      };
  }
}

/**
 * One stored event as an OCSF 1.3.0 event of the class its action maps to. `raw_data` carries the stored event
 * exactly as hashed (so a receiver can recompute `hash`), `unmapped.trailkeeper` the chain fields and what OCSF
 * has no place for.
 */
export function ocsfEvent(event: StoredEvent, original: string = JSON.stringify(event)): Record<string, unknown> {
  const cls = ocsfClassOf(event.category, event.action);
  const [activityId, activityName] = ocsfActivityOf(cls, event.action);
  const [statusId, status] = statusOf[event.outcome];
  const [severityId, severity] = ocsfSeverity(event);
  const classUid = cls.uid;
  return {
    class_uid: classUid,
    class_name: cls.caption,
    category_uid: cls.categoryUid,
    category_name: cls.categoryName,
    activity_id: activityId,
    activity_name: activityName,
    type_uid: classUid * 100 + activityId,
    type_name: `${cls.caption}: ${activityName}`,
    time: Date.parse(event.occurredAt),
    severity_id: severityId,
    severity,
    status_id: statusId,
    status,
    message: eventSummary(event),
    metadata: {
      version: ocsfVersion,
      product: { name: deviceProduct, vendor_name: deviceVendor },
      uid: event.id,
      sequence: event.seq,
      tenant_uid: event.tenant,
      event_code: event.action,
      logged_time: Date.parse(event.receivedAt),
      ...(event.requestId === undefined ? {} : { correlation_uid: event.requestId }),
    },
    actor: { user: actorUser(event), ...(event.sessionId === undefined ? {} : { session: { uid: event.sessionId } }) },
    src_endpoint: event.clientIp === undefined ? {} : { ip: event.clientIp },
    ...(event.userAgent === undefined ? {} : { http_request: { user_agent: event.userAgent } }),
    ...classFields(cls, event),
    raw_data: original,
    unmapped: {
      trailkeeper: {
        tenant: event.tenant,
        seq: event.seq,
        hash: event.hash,
        prevHash: event.prevHash,
        category: event.category,
        action: event.action,
        resource: event.resource,
        ...(event.details === undefined ? {} : { details: event.details }),
      },
    },
  };
}
