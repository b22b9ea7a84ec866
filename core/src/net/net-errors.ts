import type { FailureReason } from "../checks/check-result.ts";

interface ErrorLike {
  name?: string;
  code?: string;
  message?: string;
  address?: string;
  port?: number;
  hostname?: string;
  cause?: unknown;
  errors?: unknown[];
}

const unreachableCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EPIPE",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);
const timeoutCodes = new Set(["ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

function isTlsCode(code: string): boolean {
  return (
    code.startsWith("ERR_TLS_") ||
    code.startsWith("ERR_SSL_") ||
    code.startsWith("CERT_") ||
    code.startsWith("UNABLE_TO_") ||
    code === "EPROTO" ||
    code === "SELF_SIGNED_CERT_IN_CHAIN" ||
    code === "DEPTH_ZERO_SELF_SIGNED_CERT" ||
    code === "HOSTNAME_MISMATCH" ||
    code === "ERR_OSSL_PEM_NO_START_LINE" ||
    code.startsWith("ERR_OSSL_")
  );
}

/** The error and its causes, outermost first (undici and fetch wrap the socket error). */
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let current: unknown = err;
  while (current !== null && typeof current === "object" && out.length < 6) {
    const e = current as ErrorLike;
    out.push(e);
    // Happy-eyeballs connects fail with an AggregateError holding one error per address tried.
    current = e.cause ?? (Array.isArray(e.errors) ? e.errors[0] : undefined);
  }
  return out;
}

function where(e: ErrorLike): string {
  if (e.address !== undefined) return e.port === undefined ? ` (${e.address})` : ` (${e.address}:${e.port})`;
  if (e.hostname !== undefined) return ` (${e.hostname})`;
  return "";
}

const unreachableText: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by peer",
  ENOTFOUND: "host name not found in DNS",
  EAI_AGAIN: "DNS lookup failed temporarily",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
};

/**
 * Maps socket, DNS and TLS errors to a check reason with a message naming the peer but nothing secret. Returns
 * undefined for errors that are not about the network, which callers report as unexpected.
 */
export function classifyNetworkError(err: unknown): { reason: FailureReason; message: string } | undefined {
  for (const e of chain(err)) {
    const code = e.code ?? "";
    if (isTlsCode(code)) {
      // Node appends advice about its own flags, which means nothing to someone editing a CR.
      const text = (e.message ?? code).replace(/; if the root CA is installed locally.*$/, "");
      return { reason: "TLSError", message: `TLS failed: ${text} [${code}]${code.startsWith("UNABLE_TO_") || code.includes("SELF_SIGNED") ? " (is tls.caSecretRef the CA that signed the server certificate?)" : ""}` };
    }
    if (timeoutCodes.has(code)) return { reason: "Timeout", message: `timed out: ${e.message ?? code}${where(e)}` };
    if (unreachableCodes.has(code)) {
      return { reason: "Unreachable", message: `${unreachableText[code] ?? e.message ?? code}${where(e)} [${code}]` };
    }
  }
  return undefined;
}
