import type { StoredEvent } from "../../events/model.ts";

/** A stored event with every optional field set, for formatter tests. */
export const sampleEvent: StoredEvent = {
  id: "0b5f0c1e-8a43-4f8e-9a52-3c1d2e4f5a6b",
  tenant: "acme",
  seq: 42,
  occurredAt: "2025-01-01T12:00:00.123Z",
  receivedAt: "2025-01-01T12:00:00.456Z",
  actor: { id: "user-7", name: "Alice", type: "user" },
  action: "auth.login",
  category: "auth",
  resource: { type: "session", id: "s-1", name: "console" },
  outcome: "success",
  clientIp: "203.0.113.9",
  userAgent: "Mozilla/5.0",
  details: { mfa: true },
  sessionId: "sess-1",
  requestId: "req-1",
  prevHash: "a".repeat(64),
  hash: "b".repeat(64),
};

export const withChanges = (changes: Partial<StoredEvent>): StoredEvent => ({ ...sampleEvent, ...changes });
