import type { ConnectionOptions } from "node:tls";
import type { TlsSpec } from "../crd/common.ts";
import { requireSecret, type SecretSource } from "../secrets.ts";

/** TLS material with secrets resolved; the shape node:tls, undici and https.Agent all take. */
export interface ResolvedTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
}

export function resolveTls(spec: TlsSpec | undefined, secrets: SecretSource): ResolvedTls {
  if (spec === undefined) return { rejectUnauthorized: true };
  const out: ResolvedTls = { rejectUnauthorized: !spec.insecureSkipVerify };
  if (spec.caSecretRef !== undefined) out.ca = requireSecret(secrets, spec.caSecretRef);
  if (spec.clientCertSecretRef !== undefined) out.cert = requireSecret(secrets, spec.clientCertSecretRef);
  if (spec.clientKeySecretRef !== undefined) out.key = requireSecret(secrets, spec.clientKeySecretRef);
  if (spec.serverName !== undefined) out.servername = spec.serverName;
  return out;
}

/** Options for tls.connect; TLS 1.2 is the floor because RFC 9325 deprecates older versions. */
export function tlsConnectOptions(tls: ResolvedTls): ConnectionOptions {
  return { ...tls, minVersion: "TLSv1.2" };
}
