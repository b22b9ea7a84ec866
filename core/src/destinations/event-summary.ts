import type { StoredEvent } from "../events/model.ts";

/**
 * One line for people, e.g. `auth.login by alice on cluster "prod-1": success`, used where a destination shows a
 * message first (Datadog's log list, Kibana's Discover). The structured fields carry the same facts for machines.
 */
export function eventSummary(event: StoredEvent): string {
  const actor = event.actor.name ?? event.actor.id;
  const resource = event.resource.name ?? event.resource.id;
  return `${event.action} by ${actor} on ${event.resource.type} ${JSON.stringify(resource)}: ${event.outcome}`;
}
