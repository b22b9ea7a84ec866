import type { CategoryId } from "../../events/categories.ts";
import type { StoredEvent } from "../../events/model.ts";
import { checkpointRecordType, type CheckpointRecord } from "../checkpoint-record.ts";
import { eventSummary } from "../event-summary.ts";
import type { FormatOf } from "../../formats/formats.ts";
import { ocsfEvent } from "../../formats/ocsf.ts";

/** The ECS version the documents follow; every field used exists unchanged since ECS 8.0. */
export const ecsVersion = "8.11.0";

type EcsCategory = "authentication" | "session" | "configuration" | "iam" | "network";
type EcsType = "access" | "admin" | "change" | "connection" | "creation" | "deletion" | "end" | "group" | "info" | "start" | "user";

/** Our categories in ECS's allowed `event.category` values (ecs-allowed-values-event-category). */
export const ecsCategoryOf: Record<CategoryId, EcsCategory> = {
  auth: "authentication",
  sessions: "session",
  resources: "configuration",
  secrets: "configuration",
  users: "iam",
  permissions: "iam",
  alerts: "configuration",
  api_keys: "iam",
  domains: "configuration",
  network: "network",
  billing: "configuration",
  settings: "configuration",
  audit: "configuration",
};

/** The `event.type` values ECS expects with each category; anything else becomes `info`. */
const allowedTypes: Record<EcsCategory, readonly EcsType[]> = {
  authentication: ["start", "end", "info"],
  session: ["start", "end", "info"],
  configuration: ["access", "change", "creation", "deletion", "info"],
  iam: ["admin", "change", "creation", "deletion", "group", "info", "user"],
  network: ["access", "connection", "end", "info", "start"],
};

/** Verbs seen in action names (the last segments), by the ECS type they express. */
const verbs: [EcsType, RegExp][] = [
  ["start", /^(login|signin|connect|connected|start|started|open|opened|begin)$/],
  ["end", /^(logout|signout|disconnect|disconnected|end|ended|stop|stopped|close|closed|expire|expired|terminate|terminated)$/],
  ["creation", /^(create|created|add|added|invite|invited|issue|issued|generate|generated|register|registered|upload|uploaded)$/],
  ["deletion", /^(delete|deleted|remove|removed|revoke|revoked|destroy|destroyed|purge|purged)$/],
  ["access", /^(read|reveal|revealed|view|viewed|get|list|export|exported|download|downloaded|access|accessed|search|copy|copied)$/],
  ["change", /^(update|updated|change|changed|edit|edited|set|rotate|rotated|enable|enabled|disable|disabled|grant|granted|assign|assigned|unassign|unassigned|rename|renamed|reset|restore|restored|suspend|suspended|move|moved)$/],
];

function verbType(action: string): EcsType {
  const words = action.split(".").slice(1).reverse().flatMap((w) => w.split(/[_-]/).reverse());
  for (const word of words) for (const [type, pattern] of verbs) if (pattern.test(word)) return type;
  return "info";
}

/**
 * `event.type` for an action: the verb's type if ECS allows it with the category (else `info`), and for IAM the
 * kind of object acted on (`user`, `group`, or `admin` for roles, policies and keys), as ECS's IAM examples do.
 */
export function ecsTypes(category: CategoryId, action: string): EcsType[] {
  const ecsCategory = ecsCategoryOf[category];
  const verb = verbType(action);
  const type = allowedTypes[ecsCategory].includes(verb) ? verb : "info";
  if (ecsCategory === "network" && type === "start") return ["start", "connection"];
  if (ecsCategory !== "iam") return [type];
  const object = category === "users" ? "user" : action.startsWith("group.") || action.startsWith("team.") ? "group" : "admin";
  return type === "info" ? [object, "info"] : [object, type];
}

const present = <T>(values: (T | undefined)[]): T[] => [...new Set(values.filter((v): v is T => v !== undefined))];

/**
 * The ECS document of a stored event. `event.original` holds the stored event exactly as hashed (ECS: "used to
 * demonstrate log integrity"; not indexed), `trailkeeper.*` the chain fields and what ECS has no place for.
 */
export function ecsDocument(event: StoredEvent, original: string = JSON.stringify(event)): Record<string, unknown> {
  const actor = event.actor.type === "user"
    ? { user: { id: event.actor.id, ...(event.actor.name === undefined ? {} : { name: event.actor.name }) } }
    : { service: { id: event.actor.id, name: event.actor.name ?? event.actor.id } };
  return {
    "@timestamp": event.occurredAt,
    message: eventSummary(event),
    ecs: { version: ecsVersion },
    event: {
      kind: "event",
      category: [ecsCategoryOf[event.category]],
      type: ecsTypes(event.category, event.action),
      action: event.action,
      outcome: event.outcome,
      id: event.id,
      sequence: event.seq,
      created: event.receivedAt,
      dataset: "trailkeeper.audit",
      module: "trailkeeper",
      original,
    },
    ...actor,
    ...(event.clientIp === undefined ? {} : { source: { ip: event.clientIp } }),
    ...(event.userAgent === undefined ? {} : { user_agent: { original: event.userAgent } }),
    ...(event.requestId === undefined ? {} : { http: { request: { id: event.requestId } } }),
    organization: { id: event.tenant },
    related: {
      ...(event.actor.type === "user" ? { user: present([event.actor.id, event.actor.name]) } : {}),
      ...(event.clientIp === undefined ? {} : { ip: [event.clientIp] }),
    },
    trailkeeper: {
      tenant: event.tenant,
      seq: event.seq,
      hash: event.hash,
      prevHash: event.prevHash,
      category: event.category,
      actor: { type: event.actor.type },
      resource: event.resource,
      ...(event.details === undefined ? {} : { details: event.details }),
      ...(event.sessionId === undefined ? {} : { sessionId: event.sessionId }),
      ...(event.requestId === undefined ? {} : { requestId: event.requestId }),
    },
  };
}

/**
 * The OCSF form of a document: the OCSF event plus `@timestamp`, which data streams require and Kibana sorts by;
 * it is the only field outside OCSF.
 */
export function ocsfDocument(event: StoredEvent): Record<string, unknown> {
  return { "@timestamp": event.occurredAt, ...ocsfEvent(event) };
}

export function elasticsearchDocumentOf(format: FormatOf<"elasticsearch">): (event: StoredEvent) => Record<string, unknown> {
  return format === "ocsf" ? ocsfDocument : (event) => ecsDocument(event);
}

/**
 * A checkpoint as a document: ECS `event.kind` `state` and `event.dataset` `trailkeeper.checkpoint` tell it from
 * events (`event.kind` `event`), `@timestamp` is the signing time (data streams require one), and the record, note
 * included, is under `trailkeeper.checkpoint`.
 */
export function elasticsearchCheckpointDocument(record: CheckpointRecord): Record<string, unknown> {
  return {
    "@timestamp": record.time,
    ecs: { version: ecsVersion },
    event: { kind: "state", dataset: checkpointRecordType, module: "trailkeeper" },
    message: `checkpoint of ${record.tenant} at seq ${record.seq}`,
    trailkeeper: { checkpoint: record },
  };
}
