import type { CheckReason } from "./check-result.ts";

export const stageNames = ["resolve", "connect", "tls", "authenticate", "probe"] as const;
export type StageName = (typeof stageNames)[number];

/** Who is tested: a destination kind (CRD field name) or the recording storage. */
export type TestedKind = "webhook" | "splunkHec" | "datadog" | "elasticsearch" | "syslog" | "s3";

type RemedyKey = `${StageName}:${CheckReason}` | `${TestedKind}:${StageName}:${CheckReason}` | StageName;

/**
 * What to change when a stage fails, looked up as kind:stage:reason, then stage:reason, then stage. Each sentence
 * names the setting to check, because "it failed" is what the stage list already says.
 */
const remedies: Partial<Record<RemedyKey, string>> = {
  "resolve:Unreachable": "The host name does not resolve: check its spelling, and that it is resolvable from the cluster's DNS (an internal name may not be).",
  "resolve:AddressNotAllowed": "The address is refused by the egress policy (loopback, link-local and cloud metadata addresses are): use the receiver's routable address; the EGRESS_ALLOW_* settings of the API server and the operator relax this for tests only.",
  "resolve:Timeout": "DNS did not answer in time: check the cluster's DNS service, or use an IP address.",
  "connect:Unreachable": "Nothing accepts connections at this host and port: check the port, that the receiver is running, and that firewalls and NetworkPolicies let the cluster reach it.",
  "connect:Timeout": "The connection attempt got no answer: a firewall is probably dropping packets; allow egress from the cluster to this host and port.",
  "connect:AddressNotAllowed": "The address is refused by the egress policy: use the receiver's routable address.",
  "syslog:connect:Unreachable": "Nothing accepts connections at this host and port: check the port and transport (514 tcp, 6514 tls, 2514 relp) and that the receiver listens on it.",
  "tls:TLSError": "The TLS handshake failed: if the server certificate is signed by a private CA, put that CA in a Secret and set tls.caSecretRef; check that the certificate names this host (or set tls.serverName) and has not expired.",
  "tls:Timeout": "The TLS handshake got no answer: check that this port speaks TLS (use http:// with allowInsecureHttp, or the tcp transport, for a plain port).",
  "tls:Unreachable": "The peer closed the connection during the TLS handshake: check that this port speaks TLS and, for mutual TLS, that the client certificate is one the receiver trusts.",
  "syslog:tls:TLSError": "The TLS handshake failed: set tls.caSecretRef to the CA that signed the receiver's certificate, check tls.serverName, and, if the receiver requires client certificates, set tls.clientCertSecretRef and tls.clientKeySecretRef to one it trusts.",
  "authenticate:InvalidCredentials": "The credentials were refused: check the value in the referenced Secret key.",
  "authenticate:SecretNotFound": "A referenced Secret key has no value: supply it.",
  "webhook:authenticate:InvalidCredentials": "The receiver refused the probe's signature: give the receiver the same whsec_ signing secret as signingSecretRef.",
  "splunkHec:authenticate:InvalidCredentials": "The token was refused: check the HEC token, and that the token is enabled (Settings → Data inputs → HTTP Event Collector).",
  "datadog:authenticate:InvalidCredentials": "The API key was refused: check the key (an API key, not an application key) and that spec.datadog.site is the site the key belongs to.",
  "elasticsearch:authenticate:InvalidCredentials": "The credentials were refused: check the API key (the encoded base64 id:api_key form Kibana shows) or the user name and password, and that the key is not expired or invalidated.",
  "s3:authenticate:InvalidCredentials": "The access key pair was refused: check the access key id and secret access key (a wrong secret key shows as SignatureDoesNotMatch), and that the key is active.",
  "probe:PermissionDenied": "The credentials were accepted but the write was not allowed: grant the missing permission named in the message.",
  "elasticsearch:probe:PermissionDenied": "The credentials were accepted but cannot write here: grant create_doc (or create, index, write) on the index or data stream, and auto_configure to let it be created.",
  "s3:probe:PermissionDenied": "The key was accepted but may not write: allow s3:PutObject, s3:GetObject and s3:DeleteObject on the bucket's prefix (s3:ListBucket is optional).",
  "probe:NotFound": "The destination answered 404: check the URL path (the base URL, without the API path) and, for Splunk, the index name.",
  "s3:probe:NotFound": "No such bucket at this endpoint: check bucket, endpoint and forcePathStyle (most self-hosted stores need forcePathStyle: true).",
  "splunkHec:probe:Rejected": "HEC refused the probe event: check that spec.splunkHec.index exists and is in the token's allowed indexes, and the sourcetype.",
  "probe:Rejected": "The destination refused the probe: read its answer in the message and adjust the spec (index, format, or receiver settings).",
  "probe:Timeout": "No answer within the time limit: check that the host and port are the destination's API (not a proxy that holds connections), or raise spec.timeout (the test stops at 15 s).",
  "probe:ServerError": "The destination answered with a server error: check its health and retry later.",
  "probe:RateLimited": "The destination is rate limiting: retry later or raise its quota.",
  "probe:InvalidConfig": "The destination says the configuration does not fit it: correct the setting named in the message.",
  "s3:probe:InvalidConfig": "The store says the request does not fit it: usually the region is wrong for this bucket or endpoint; check region and forcePathStyle.",
  "probe:UnexpectedResponse": "The peer does not answer as this destination type does: check that the URL points at the right service.",
  "probe:DataMismatch": "The object read back differs from the one written: check for a proxy or store that rewrites objects.",
  "probe:Unreachable": "The connection broke during the probe: check that the port is the destination's service and not a load balancer that drops the request.",
  "probe:UnexpectedError": "The test ended with an unexpected error: the message has the details.",
  resolve: "Check the host name.",
  connect: "Check the host, port and network path.",
  tls: "Check the TLS settings.",
  authenticate: "Check the credentials.",
  probe: "Check the destination's settings named in the message.",
};

export function remedyFor(kind: TestedKind, stage: StageName, reason: CheckReason): string {
  return remedies[`${kind}:${stage}:${reason}`] ?? remedies[`${stage}:${reason}`] ?? remedies[stage]!;
}
