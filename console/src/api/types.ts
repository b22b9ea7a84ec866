/** The API's answers as the console reads them (docs/api.md, docs/integrity.md and the console contract). */

export interface StoredEvent {
  id: string;
  tenant: string;
  seq: number;
  occurredAt: string;
  receivedAt: string;
  actor: { id: string; name?: string; type: string };
  action: string;
  category: string;
  resource: { type: string; id: string; name?: string };
  outcome: "success" | "failure" | "unknown";
  clientIp?: string;
  userAgent?: string;
  details?: Record<string, unknown>;
  sessionId?: string;
  requestId?: string;
  prevHash: string;
  hash: string;
}

export interface EventPage {
  events: StoredEvent[];
  nextCursor: string | null;
}

export type ConsoleScope = "events:read" | "events:export" | "integrity:read" | "config:read" | "config:test" | "config:write";

export interface ConsoleSession {
  id: string;
  tenant: string;
  scopes: ConsoleScope[];
  expiresAt: string;
  csrfToken: string;
  via: "api_key" | "link";
}

export interface Checkpoint {
  tenant: string;
  seq: number;
  hash: string;
  time: string;
  keyId: string;
  note: string;
}

export interface VerifyFailure {
  seq: number;
  reason: string;
  [more: string]: unknown;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  headSeq: number;
  headHash: string;
  /** Events 1..prunedThrough were removed by retention; the walk started after them, from a signed checkpoint. */
  prunedThrough?: number;
  failure?: VerifyFailure;
}

export interface PublicKey {
  algorithm: string;
  logName: string;
  keyName: string;
  keyId: string;
  vkey: string;
  publicKeyPem: string;
}

/** RFC 9457 problem details as the server sends them (api-server/src/problem.ts). */
export interface ProblemDetails {
  type?: string;
  title?: string;
  status: number;
  code?: string;
  detail?: string;
  errors?: { path: string; message: string }[];
}

/** metav1.Condition as the operator writes it (docs/crds.md). */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface LastCheck {
  time: string;
  success: boolean;
  reason?: string;
  latencyMs?: number;
  message?: string;
}

export interface DeliveryStatus {
  delivered?: number;
  failed?: number;
  deadLettered?: number;
  lagEvents?: number;
  lastDeliveredAt?: string;
  lastError?: string;
  cursorSeq?: number;
}

/** Who manages a resource through GitOps; the console shows such resources read-only (contract: mirror managedBy). */
export interface ManagedBy {
  tool: "argocd" | "flux";
  reason: string;
}

/** A LogForwardingDestination or RecordingStorage as the operator mirrors it (docs/api.md). */
export interface MirroredResource {
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  type: string | null;
  enabled: boolean;
  format: string | null;
  endpoint: string | null;
  details: Record<string, unknown>;
  conditions: Condition[];
  lastCheck: LastCheck | null;
  delivery: DeliveryStatus | null;
  lastError: string | null;
  createdAt: string | null;
  mirroredAt: string;
  managedBy?: ManagedBy | null;
  /**
   * The spec as stored, URL query strings and fragments cut (the paths in specRedacted); absent in the destination
   * list, null until the operator mirrored the resource with a spec.
   */
  spec?: Record<string, unknown> | null;
  specRedacted?: string[];
}

export interface DeadLetter {
  id: number;
  seq: number;
  eventId: string;
  reason: string;
  createdAt: string;
}

export interface DeliverySample {
  at: string;
  delivered: number;
  failed: number;
  deadLettered: number;
  lagEvents: number | null;
}

export interface ConfigCapabilities {
  save: "kubernetes" | "manifest";
  namespaces: string[];
}

export interface TestStage {
  name: "resolve" | "connect" | "tls" | "authenticate" | "probe";
  status: "passed" | "failed" | "skipped";
  durationMs: number;
  detail: string;
  remedy?: string;
}

/** The answer of POST /v1/destinations/test and /v1/recording-storages/test (200 whether it passed or not). */
export interface ConnectionTestResult {
  ok: boolean;
  reason: string;
  message: string;
  durationMs: number;
  target: string;
  stages: TestStage[];
}

/** Inline credentials by Secret name and key; sent with a test or save, never kept by the console. */
export type InlineSecrets = Record<string, Record<string, string>>;

export interface SaveResult {
  namespace: string;
  name: string;
  created: boolean;
  generation: number;
}
