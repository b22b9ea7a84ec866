/**
 * What the events table keeps of a loaded event: the text of its cells, formatted once when the page arrives, and
 * the id and seq to fetch the whole event when its row is expanded. Strings only, no nested objects, so 20,000
 * loaded rows make a small heap that each major GC marks quickly (docs/performance.md, "Console").
 */
import type { StoredEvent } from "../../api/types.ts";
import { localTime } from "../../components/Timestamp.tsx";
import { cellText } from "../../components/text.ts";

export interface EventRow {
  id: string;
  seq: number;
  /** The stored instant (UTC), for the time element and its title. */
  occurredAt: string;
  /** occurredAt in the viewer's time zone. */
  time: string;
  user: string;
  action: string;
  resourceType: string;
  resource: string;
  clientIp: string;
  outcome: StoredEvent["outcome"];
}

const idAndName = (id: string, name: string | undefined) => cellText(name ? `${name} (${id})` : id);

export function toEventRow(e: StoredEvent): EventRow {
  return {
    id: e.id,
    seq: e.seq,
    occurredAt: e.occurredAt,
    time: localTime(e.occurredAt),
    user: idAndName(e.actor.id, e.actor.name),
    action: cellText(e.action),
    resourceType: cellText(e.resource.type),
    resource: idAndName(e.resource.id, e.resource.name),
    clientIp: cellText(e.clientIp),
    outcome: e.outcome,
  };
}
