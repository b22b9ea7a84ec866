import { extendChain, genesisHash } from "../../core/src/events/chain.ts";
import { eventInputSchema, toPendingEvent, type EventInput, type StoredEvent } from "../../core/src/events/model.ts";
import { eventToRow } from "../../core/src/db/event-rows.ts";
import { uuidv7 } from "../../core/src/ids.ts";

/** Deterministic PRNG (mulberry32), so every run ingests the same kind of events. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Actions from every category, each with the kind of resource it acts on. */
const catalogue = [
  ["auth.login", "console"], ["auth.logout", "console"], ["sso.saml_login", "identity_provider"], ["mfa.challenge", "user"],
  ["session.start", "ssh_session"], ["recording.view", "recording"],
  ["resource.create", "deployment"], ["resource.update", "cluster"], ["resource.delete", "database"],
  ["secret.reveal", "secret"], ["vault.unseal", "vault"],
  ["user.invite", "user"], ["team.member_add", "team"],
  ["permission.grant", "role_binding"], ["role.assign", "role"], ["policy.update", "policy"],
  ["alert.fire", "alert"], ["rule.update", "alert_rule"],
  ["apikey.create", "api_key"], ["domain.verify", "domain"], ["saml.configure", "saml_connection"],
  ["vpn.connect", "vpn_gateway"], ["mesh.join", "mesh_node"],
  ["billing.invoice_paid", "invoice"], ["plan.change", "plan"], ["settings.update", "settings"],
] as const;

const firstNames = ["Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Radia", "Edsger", "Frances", "Tim", "Hedy"];
const clusters = ["prod-eu-west-1", "prod-us-east-2", "staging-eu-central-1", "dev-ap-south-1"];
const namespaces = ["payments", "checkout", "identity", "observability", "data-platform", "edge-gateway"];
const reasons = [
  "scheduled maintenance approved by CAB",
  "incident: elevated checkout errors",
  "routine rotation by the security team",
  "onboarding a new enterprise workspace",
  "capacity ahead of the quarterly peak",
];
const outcomes = ["success", "success", "success", "success", "failure", "unknown"] as const;

/**
 * Realistic event inputs as a client would send them: actor, an action from every category, a resource,
 * an occurredAt, clientIp (IPv4 and IPv6) and about 200 bytes of details. No `id`: the server assigns one.
 */
export function makeEventInputs(count: number, seed: number, now = Date.now()): EventInput[] {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const hex = (n: number) => Array.from({ length: n }, () => int(16).toString(16)).join("");
  const out: EventInput[] = [];
  for (let i = 0; i < count; i++) {
    const [action, resourceType] = pick(catalogue);
    const kind = r();
    const actor = kind < 0.8
      ? { id: `user-${int(5000)}`, name: `${pick(firstNames)} ${String.fromCharCode(65 + int(26))}.`, type: "user" as const }
      : kind < 0.97 ? { id: `svc-${pick(namespaces)}-${int(40)}`, type: "service" as const } : { id: "system", type: "system" as const };
    const from = int(8);
    out.push({
      occurredAt: new Date(now - int(60_000)).toISOString(),
      actor,
      action,
      resource: { type: resourceType, id: `${resourceType.slice(0, 3)}-${hex(12)}`, name: `${pick(namespaces)}-${int(900)}` },
      outcome: pick(outcomes),
      clientIp: r() < 0.8 ? `10.${int(256)}.${int(256)}.${int(256)}` : `2001:db8:${hex(4)}::${hex(4)}`,
      details: {
        cluster: pick(clusters),
        namespace: pick(namespaces),
        reason: pick(reasons),
        ticket: `OPS-${1000 + int(9000)}`,
        changes: [{ field: "replicas", from, to: from + 1 + int(4) }],
        traceId: hex(24),
      },
    });
  }
  return out;
}

/** The stored events a fresh tenant's chain would hold for these inputs: ids, seq and hashes all computed. */
export function precomputeChain(tenant: string, inputs: readonly EventInput[], receivedAt = new Date()): StoredEvent[] {
  const pending = inputs.map((input) => toPendingEvent(eventInputSchema.parse(input), tenant, uuidv7(receivedAt.getTime()), receivedAt));
  return extendChain({ seq: 0, hash: genesisHash }, pending).events;
}

/** One value in COPY text format: `\N` for NULL, backslash escapes for the rest. */
function copyText(v: unknown): string {
  if (v === null || v === undefined) return "\\N";
  const s = v instanceof Date ? v.toISOString() : String(v);
  return /[\\\n\r\t]/.test(s) ? s.replace(/[\\\n\r\t]/g, (c) => ({ "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c]!) : s;
}

/** The whole COPY FROM STDIN payload (text format, columns as `eventColumns`) for these events. */
export function copyPayload(events: readonly StoredEvent[]): Buffer {
  return Buffer.from(events.map((e) => `${eventToRow(e).map(copyText).join("\t")}\n`).join(""), "utf8");
}
