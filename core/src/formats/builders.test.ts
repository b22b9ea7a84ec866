import { describe, expect, it } from "vitest";
import { datadogLogOf } from "../destinations/datadog/log-entry.ts";
import { elasticsearchDocumentOf, ecsDocument } from "../destinations/elasticsearch/ecs.ts";
import { hecEnvelope } from "../destinations/splunk-hec/envelope.ts";
import { formatSyslogMessage } from "../destinations/syslog/rfc5424.ts";
import { sampleEvent, withChanges } from "../destinations/testdata/sample-event.ts";
import { auditBatchBody, webhookEventEncoder } from "../destinations/webhook/batch.ts";
import { probeBody } from "../destinations/webhook/webhook.ts";
import { cefRecord } from "./cef.ts";
import { leefRecord } from "./leef.ts";
import { ocsfEvent } from "./ocsf.ts";
import { ocsfProblems } from "./testdata/ocsf-fixture.ts";

/** Each kind's payload builder in each format it carries: the format's object or record, where the kind puts it. */
describe("payload builders per format", () => {
  const identity = { facility: 13, hostname: "op-1", appName: "trailkeeper" };
  const ddOptions = { source: "trailkeeper", service: "trailkeeper", hostname: "op-1", tags: [] };
  const now = Date.parse(sampleEvent.occurredAt);

  it("webhook: native events or OCSF events, labelled", () => {
    expect(JSON.parse(auditBatchBody([webhookEventEncoder("native")(sampleEvent)]))).toEqual({ type: "trailkeeper.audit.batch", events: [sampleEvent] });
    expect(JSON.parse(auditBatchBody([webhookEventEncoder("ocsf")(sampleEvent)], "ocsf"))).toEqual({ type: "trailkeeper.audit.batch", format: "ocsf", ocsfVersion: "1.3.0", events: [ocsfEvent(sampleEvent)] });
  });

  it("webhook probe: a typed test event, with a valid OCSF stand-in in the ocsf format", () => {
    const at = new Date("2025-01-01T00:00:00Z");
    expect(JSON.parse(probeBody("native", at))).toEqual({ type: "trailkeeper.test", timestamp: at.toISOString(), data: { message: "Connectivity check from Trailkeeper; no audit event is attached." } });
    const ocsf = JSON.parse(probeBody("ocsf", at)) as { events: Record<string, unknown>[] };
    expect(ocsf).toMatchObject({ type: "trailkeeper.test", format: "ocsf" });
    expect(ocsfProblems(ocsf.events[0]!)).toEqual([]);
  });

  it("Splunk HEC: the stored event, the OCSF object, or the CEF record as a string", () => {
    const meta = { sourcetype: "st" };
    expect(JSON.parse(hecEnvelope(sampleEvent, meta)).event).toEqual(sampleEvent);
    expect(JSON.parse(hecEnvelope(sampleEvent, meta, "ocsf")).event).toEqual(ocsfEvent(sampleEvent));
    expect(JSON.parse(hecEnvelope(sampleEvent, meta, "cef")).event).toBe(cefRecord(sampleEvent));
  });

  it("Datadog: the OCSF form keeps Datadog's attributes and drops the native ones", () => {
    const entry = datadogLogOf("ocsf")(sampleEvent, ddOptions, now);
    expect(entry).toMatchObject({ ddsource: "trailkeeper", status: "info", date: sampleEvent.occurredAt, ocsf: ocsfEvent(sampleEvent) });
    expect(entry).not.toHaveProperty("trailkeeper");
    expect(datadogLogOf("native")(sampleEvent, ddOptions, now)).toHaveProperty("trailkeeper", sampleEvent);
  });

  it("Elasticsearch: ECS by default, OCSF with @timestamp", () => {
    expect(elasticsearchDocumentOf("ecs")(sampleEvent)).toEqual(ecsDocument(sampleEvent));
    expect(elasticsearchDocumentOf("ocsf")(sampleEvent)).toEqual({ "@timestamp": sampleEvent.occurredAt, ...ocsfEvent(sampleEvent) });
  });

  it("syslog: CEF and LEEF as MSG without a BOM, after the same header and structured data", () => {
    const native = formatSyslogMessage(sampleEvent, identity).toString();
    const prefix = native.slice(0, native.indexOf("] ") + 2);
    expect(formatSyslogMessage(sampleEvent, identity, undefined, "cef").toString()).toBe(`${prefix}${cefRecord(sampleEvent)}`);
    expect(formatSyslogMessage(sampleEvent, identity, undefined, "leef").toString()).toBe(`${prefix}${leefRecord(sampleEvent)}`);
  });

  it("syslog over UDP: a long CEF record is cut within the limit and marked truncated", () => {
    const long = withChanges({ details: { text: "x".repeat(5000) } });
    const msg = formatSyslogMessage(long, identity, 2048, "cef");
    expect(msg.length).toBeLessThanOrEqual(2048);
    expect(msg.toString()).toContain('truncated="true"] CEF:0|');
  });
});
