import { canonicalJson } from "./canonical.ts";
import type { StoredEvent } from "./model.ts";

const str = JSON.stringify;

/**
 * RFC 8785 form of a stored event without its hash (a `hash` member, if present, is left out), written with the
 * members already in JCS order. The result
 * is identical to canonicalJson(event without hash) (tested against it); it exists because verification and
 * ingestion hash every event, and the generic sort-and-recurse path is several times slower.
 * Member order (UTF-16): action, actor{id,name,type}, category, clientIp, details, id, occurredAt, outcome,
 * prevHash, receivedAt, requestId, resource{id,name,type}, seq, sessionId, tenant, userAgent.
 */
export function canonicalEventJson(e: Omit<StoredEvent, "hash"> | StoredEvent): string {
  // Anything beyond the known members (say, a field added to an exported line) must change the hash, so such
  // objects take the generic path.
  if (!hasOnlyKnownMembers(e)) {
    const { hash: _hash, ...hashed } = e as StoredEvent;
    return canonicalJson(hashed);
  }
  const a = e.actor;
  const r = e.resource;
  let out = `{"action":${str(e.action)},"actor":{"id":${str(a.id)}${a.name === undefined ? "" : `,"name":${str(a.name)}`},"type":${str(a.type)}}`;
  out += `,"category":${str(e.category)}`;
  if (e.clientIp !== undefined) out += `,"clientIp":${str(e.clientIp)}`;
  if (e.details !== undefined) out += `,"details":${canonicalJson(e.details)}`;
  out += `,"id":${str(e.id)},"occurredAt":${str(e.occurredAt)},"outcome":${str(e.outcome)},"prevHash":${str(e.prevHash)},"receivedAt":${str(e.receivedAt)}`;
  if (e.requestId !== undefined) out += `,"requestId":${str(e.requestId)}`;
  out += `,"resource":{"id":${str(r.id)}${r.name === undefined ? "" : `,"name":${str(r.name)}`},"type":${str(r.type)}}`;
  out += `,"seq":${str(e.seq)}`;
  if (e.sessionId !== undefined) out += `,"sessionId":${str(e.sessionId)}`;
  out += `,"tenant":${str(e.tenant)}`;
  if (e.userAgent !== undefined) out += `,"userAgent":${str(e.userAgent)}`;
  return `${out}}`;
}

const eventMembers = new Set(["action", "actor", "category", "clientIp", "details", "hash", "id", "occurredAt", "outcome", "prevHash", "receivedAt", "requestId", "resource", "seq", "sessionId", "tenant", "userAgent"]);
const nestedMembers = new Set(["id", "name", "type"]);

function hasOnlyKnownMembers(e: object): boolean {
  for (const k in e) if (!eventMembers.has(k)) return false;
  const { actor, resource } = e as { actor?: object; resource?: object };
  if (typeof actor !== "object" || actor === null || typeof resource !== "object" || resource === null) return false;
  for (const k in actor) if (!nestedMembers.has(k)) return false;
  for (const k in resource) if (!nestedMembers.has(k)) return false;
  return true;
}
