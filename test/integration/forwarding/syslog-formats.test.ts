import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trailkeeperSdId } from "../../../core/src/destinations/syslog/rfc5424.ts";
import type { EventInput, StoredEvent } from "../../../core/src/events/model.ts";
import { parseCef, parseLeef } from "../../../core/src/formats/testdata/line-parsers.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { startRsyslog, type ParsedSyslogMessage, type RunningRsyslog } from "../../support/rsyslog.ts";
import { range, startForwarding, until } from "./harness.ts";

/**
 * CEF and LEEF over syslog through a real rsyslog: what rsyslog stores as MSG must parse back, with the
 * specification-written parsers, to exactly the stored event's text. Tabs and other control characters are left
 * out: rsyslog rewrites them on reception by default (docs/forwarding.md says so).
 */
const hostile = [
  "pipe | back\\slash \\| equals = a b=c caret ^ ^=",
  "line\nbreak\r\nand\rreturn",
  `Ünïcødé 日本語 🔐 ${"x=\\|".repeat(2600)}`, // over 10 KB
];
const hostileEvent = (text: string): EventInput => ({
  actor: { id: `actor ${text.slice(0, 200)}`, name: text.slice(0, 256), type: "user" },
  action: "secret.reveal",
  resource: { type: "secret", id: text.slice(0, 256), name: "db" },
  outcome: "failure",
  userAgent: text.slice(0, 1024),
  details: { text },
});

const seqOf = (m: ParsedSyslogMessage) => Number(m.sd[trailkeeperSdId]?.seq);

describe.each([
  { format: "cef" as const, parse: parseCef, keys: { actorId: "suid", actorName: "suser", resourceId: "cs5", userAgent: "requestClientApplication", details: "flexString1", tenant: "cs1", seq: "cn1", hash: "cs2", prevHash: "cs3" } },
  { format: "leef" as const, parse: parseLeef, keys: { actorId: "actorId", actorName: "usrName", resourceId: "resourceId", userAgent: "userAgent", details: "details", tenant: "tenant", seq: "seq", hash: "hash", prevHash: "prevHash" } },
])("$format over syslog, through a real rsyslog", ({ format, parse, keys }) => {
  let db: TestDatabase;
  let rsyslog: RunningRsyslog;
  beforeAll(async () => {
    db = await freshDatabase();
    rsyslog = await startRsyslog();
  });
  afterAll(async () => {
    await rsyslog?.stop();
    await db?.drop();
  });

  it("delivers every event as MSG that parses back to the stored text, hostile strings included", async () => {
    const run = await startForwarding(db, { syslog: { host: "127.0.0.1", port: rsyslog.tcpPort, transport: "tcp" }, format, timeout: "2s", delivery: { maxBackoff: "1s" } }, {});
    await run.append(20);
    for (const text of hostile) await run.appendEvent(hostileEvent(text));
    const mine = () => rsyslog.parsedMessages().filter((m) => m.sd[trailkeeperSdId]?.tenant === run.tenant);
    await until(() => mine().length >= 23);
    const stored = await run.stored();
    const parsed = mine();
    expect(parsed.map(seqOf)).toEqual(range(1, 23));
    for (const [i, m] of parsed.entries()) {
      const event: StoredEvent = stored[i]!;
      expect(m.msg.startsWith(format === "cef" ? "CEF:0|Trailkeeper|" : "LEEF:2.0|Trailkeeper|")).toBe(true);
      const { fields } = parse(m.msg);
      expect(fields.get(keys.actorId)).toBe(event.actor.id);
      expect(fields.get(keys.actorName)).toBe(event.actor.name ?? event.actor.id);
      expect(fields.get(keys.resourceId)).toBe(event.resource.id);
      expect(fields.get(keys.tenant)).toBe(event.tenant);
      expect(fields.get(keys.seq)).toBe(String(event.seq));
      expect(fields.get(keys.hash)).toBe(event.hash);
      expect(fields.get(keys.prevHash)).toBe(event.prevHash);
      if (event.userAgent !== undefined) expect(fields.get(keys.userAgent)).toBe(event.userAgent);
      if (event.details !== undefined) expect(JSON.parse(fields.get(keys.details)!)).toEqual(event.details);
    }
    expect(JSON.parse(parse(parsed.at(-1)!.msg).fields.get(keys.details)!)).toEqual({ text: hostile.at(-1) });
    await run.stop();
  });
});
