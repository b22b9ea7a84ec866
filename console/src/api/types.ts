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
