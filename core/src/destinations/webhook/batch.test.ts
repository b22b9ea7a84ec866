import { describe, expect, it } from "vitest";
import { sampleEvent, withChanges } from "../testdata/sample-event.ts";
import { auditBatchBody, auditBatchMessageId } from "./batch.ts";

describe("webhook batch", () => {
  it("wraps the stored events in a typed body", () => {
    const body = auditBatchBody([JSON.stringify(sampleEvent)]);
    expect(JSON.parse(body)).toEqual({ type: "trailkeeper.audit.batch", events: [sampleEvent] });
  });

  it("derives a stable message id from the destination and the batch's seq range", () => {
    const batch = [sampleEvent, withChanges({ seq: 43 })];
    const id = auditBatchMessageId("uid-1", batch);
    expect(id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(auditBatchMessageId("uid-1", batch.map((e) => ({ ...e })))).toBe(id);
    expect(auditBatchMessageId("uid-2", batch)).not.toBe(id);
    expect(auditBatchMessageId("uid-1", batch.slice(0, 1))).not.toBe(id);
  });
});
