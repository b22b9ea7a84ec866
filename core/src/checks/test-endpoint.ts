import { isIP } from "node:net";
import type { TlsSpec } from "../crd/common.ts";
import { defaultSyslogPorts, type DestinationConfig, type DestinationKind } from "../crd/destination-blocks.ts";
import type { RecordingStorageSpec } from "../crd/recording-storage.ts";
import { datadogBaseUrls } from "../destinations/datadog/sites.ts";

/** What a staged test connects to before the operator's tester runs: the peer of the tester's first request. */
export interface TestEndpoint {
  /** Shown in the answer: scheme, host, port and path, never a query string (it may carry a token). */
  target: string;
  host: string;
  port: number;
  transport: "tcp" | "tls" | "udp";
  tls: TlsSpec | undefined;
  /** How the peer authenticates us, for the authenticate stage; undefined when the protocol has no credentials. */
  credentials: string | undefined;
}

function httpEndpoint(url: string, tls: TlsSpec | undefined, credentials: string): TestEndpoint {
  const u = new URL(url);
  const secure = u.protocol === "https:";
  return {
    target: `${u.origin}${u.pathname}`,
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: Number(u.port || (secure ? 443 : 80)),
    transport: secure ? "tls" : "tcp",
    tls,
    credentials,
  };
}

/** One entry per CRD kind, so a kind added to the CRD without an endpoint here fails to compile. */
const endpointOfKind: { readonly [K in DestinationKind]: (config: DestinationConfig<K>) => TestEndpoint } = {
  webhook: (c) => httpEndpoint(c.url, c.tls, "the Standard Webhooks signature of the probe"),
  splunkHec: (c) => httpEndpoint(c.url, c.tls, "the HEC token"),
  datadog: (c) => httpEndpoint(datadogBaseUrls(c.site, c.endpoint).api, c.tls, "the Datadog API key"),
  elasticsearch: (c) => httpEndpoint(c.url, c.tls, c.basicAuth === undefined ? "the Elasticsearch API key" : `the password of user ${c.basicAuth.username}`),
  syslog: (c) => {
    const port = c.port ?? defaultSyslogPorts[c.transport];
    const secure = c.transport === "tls" || c.transport === "relp-tls";
    return {
      target: `${c.transport}://${isIP(c.host) === 6 ? `[${c.host}]` : c.host}:${port}`,
      host: c.host,
      port,
      transport: c.transport === "udp" ? "udp" : secure ? "tls" : "tcp",
      tls: c.tls,
      credentials: c.tls?.clientCertSecretRef === undefined ? undefined : "the client certificate",
    };
  },
};

export function destinationEndpoint<K extends DestinationKind>(kind: K, config: DestinationConfig<K>): TestEndpoint {
  return endpointOfKind[kind](config);
}

/**
 * The host the S3 SDK dials: the bucket as a subdomain (virtual-hosted style) unless path style is forced, the
 * endpoint is an IP address, or the bucket name has dots (which break the wildcard certificate).
 */
export function storageEndpoint(spec: RecordingStorageSpec): TestEndpoint {
  const base = new URL(spec.endpoint ?? `https://s3.${spec.region}.amazonaws.com`);
  const pathStyle = spec.forcePathStyle || isIP(base.hostname.replace(/^\[|\]$/g, "")) !== 0 || spec.bucket.includes(".");
  const url = pathStyle ? `${base.origin}${base.pathname.replace(/\/+$/, "")}/${spec.bucket}` : `${base.protocol}//${spec.bucket}.${base.host}${base.pathname}`;
  return httpEndpoint(url, spec.tls, "the S3 access key pair (SigV4 signature)");
}
