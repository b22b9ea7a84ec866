import { describe, expect, it } from "vitest";
import { sampleEvent, withChanges } from "../testdata/sample-event.ts";
import { datadogLogEntry, datadogStatusOfOutcome, maxDateAgeMs } from "./log-entry.ts";

const options = { source: "trailkeeper", service: "trailkeeper", hostname: "op-1", tags: ["env:prod"] };
const occurred = Date.parse(sampleEvent.occurredAt);

describe("Datadog log entry", () => {
  it("maps reserved attributes, standard attributes and keeps the stored event whole", () => {
    expect(datadogLogEntry(sampleEvent, options, occurred + 1000)).toEqual({
      ddsource: "trailkeeper",
      ddtags: "tenant:acme,env:prod",
      hostname: "op-1",
      service: "trailkeeper",
      status: "info",
      date: "2025-01-01T12:00:00.123Z",
      message: 'auth.login by Alice on session "console": success',
      evt: { name: "auth.login", outcome: "success", category: "auth" },
      usr: { id: "user-7", name: "Alice" },
      network: { client: { ip: "203.0.113.9" } },
      http: { useragent: "Mozilla/5.0" },
      trailkeeper: sampleEvent,
    });
  });

  it.each([
    ["success", "info"],
    ["failure", "warn"],
    ["unknown", "notice"],
  ] as const)("a %s event has status %s", (outcome, status) => {
    expect(datadogStatusOfOutcome[outcome]).toBe(status);
    expect(datadogLogEntry(withChanges({ outcome }), options, occurred).status).toBe(status);
  });

  it("leaves out date for events older than Datadog accepts, so they are stamped on arrival rather than dropped", () => {
    expect(datadogLogEntry(sampleEvent, options, occurred + maxDateAgeMs)).toHaveProperty("date");
    expect(datadogLogEntry(sampleEvent, options, occurred + maxDateAgeMs + 1)).not.toHaveProperty("date");
  });

  it("puts only user actors under usr, and omits absent client fields", () => {
    const entry = datadogLogEntry(withChanges({ actor: { id: "ci-bot", type: "service" }, clientIp: undefined, userAgent: undefined }), { ...options, tags: [] }, occurred);
    expect(entry).not.toHaveProperty("usr");
    expect(entry).not.toHaveProperty("network");
    expect(entry).not.toHaveProperty("http");
    expect(entry.ddtags).toBe("tenant:acme");
  });
});
