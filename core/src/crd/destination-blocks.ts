import { z } from "zod";
import { datadogSiteIds } from "../destinations/datadog/sites.ts";
import {
  allowInsecureHttpField,
  hostSchema,
  httpsUnlessAllowed,
  httpUrlSchema,
  secretKeyRefSchema,
  tlsSchema,
} from "./common.ts";
import { withRules } from "./rules.ts";

/** One schema per destination kind; the keys of `destinationBlocks` are the CRD field names and the kinds. */

export const webhookSchema = withRules(
  z
    .object({
      url: httpUrlSchema.describe("Receiver URL; events are POSTed here."),
      signingSecretRef: secretKeyRefSchema.describe("Standard Webhooks signing secret: `whsec_` then base64 of 24 to 64 random bytes."),
      tls: tlsSchema.optional(),
      allowInsecureHttp: allowInsecureHttpField,
    })
    .describe("HTTPS webhook signed per Standard Webhooks v1."),
  [httpsUnlessAllowed("url", false)],
);

export const splunkHecSchema = withRules(
  z
    .object({
      url: httpUrlSchema.describe("HEC base URL, e.g. https://splunk.example.com:8088 (paths /services/collector/... are appended)."),
      tokenSecretRef: secretKeyRefSchema.describe("HEC token (a GUID)."),
      index: z.string().min(1).max(80).regex(/^[a-z0-9][a-z0-9_-]*$/, "must be a Splunk index name").optional().describe("Target index; must be allowed for the token. Default: the token's default index."),
      source: z.string().min(1).max(256).optional().describe("Event source. Default: the token's."),
      sourcetype: z.string().min(1).max(256).default("trailkeeper:audit").describe("Event sourcetype."),
      host: z.string().min(1).max(256).optional().describe("Event host field. Default: the token's."),
      indexerAcknowledgement: z.boolean().default(false).describe("Wait for indexer acknowledgement (the token must have useACK on)."),
      tls: tlsSchema.optional(),
      allowInsecureHttp: allowInsecureHttpField,
    })
    .describe("Splunk HTTP Event Collector."),
  [httpsUnlessAllowed("url", false)],
);

export const datadogSchema = withRules(
  z
    .object({
      site: z.enum(datadogSiteIds).default("datadoghq.com").describe("Datadog site (DD_SITE); API keys are valid on one site only."),
      apiKeySecretRef: secretKeyRefSchema.describe("Datadog API key (no application key is needed)."),
      endpoint: httpUrlSchema.optional().describe("Send to this base URL instead of the site's hosts, e.g. a proxy."),
      service: z.string().min(1).max(100).default("trailkeeper").describe("`service` attribute of each log."),
      source: z.string().min(1).max(100).default("trailkeeper").describe("`ddsource` attribute of each log."),
      tags: z
        .array(z.string().min(1).max(200).regex(/^[^,\s]+$/, "a tag must not contain commas or spaces"))
        .max(50)
        .optional()
        .describe("Extra `ddtags`, e.g. env:prod; the tenant is always added."),
      tls: tlsSchema.optional(),
      allowInsecureHttp: allowInsecureHttpField,
    })
    .describe("Datadog Logs API v2."),
  [httpsUnlessAllowed("endpoint", true)],
);

/** Index and data stream names: lowercase, no separators Elasticsearch forbids, not starting with - _ +. */
const elasticsearchTargetName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "must be a lowercase Elasticsearch index or data stream name");

export const elasticsearchSchema = withRules(
  z
    .object({
      url: httpUrlSchema.describe("Cluster URL, e.g. https://es.example.com:9200."),
      index: elasticsearchTargetName.optional().describe("Write to this index."),
      dataStream: elasticsearchTargetName.optional().describe("Write to this data stream, e.g. logs-trailkeeper.audit-default."),
      apiKeySecretRef: secretKeyRefSchema.optional().describe("API key in its encoded form, base64(id:api_key), as Kibana shows it."),
      basicAuth: z
        .object({
          username: z.string().min(1).max(256),
          passwordSecretRef: secretKeyRefSchema,
        })
        .optional()
        .describe("User name and password, when no API key is used."),
      tls: tlsSchema.optional(),
      allowInsecureHttp: allowInsecureHttpField,
    })
    .describe("Elasticsearch via the _bulk API (create actions)."),
  [
    httpsUnlessAllowed("url", false),
    {
      rule: "has(self.index) != has(self.dataStream)",
      message: "exactly one of index or dataStream must be set",
      holds: (v) => (v.index === undefined) !== (v.dataStream === undefined),
    },
    {
      rule: "has(self.apiKeySecretRef) != has(self.basicAuth)",
      message: "exactly one of apiKeySecretRef or basicAuth must be set",
      holds: (v) => (v.apiKeySecretRef === undefined) !== (v.basicAuth === undefined),
    },
  ],
);

export const syslogTransports = ["udp", "tcp", "tls", "relp", "relp-tls"] as const;
export type SyslogTransport = (typeof syslogTransports)[number];
/** The transports that run over TLS and so take the `tls` block. */
export const syslogTlsTransports = ["tls", "relp-tls"] as const satisfies readonly SyslogTransport[];
/**
 * IANA ports: 514 for UDP (RFC 5426) and, by long custom, TCP; 6514 for TLS (RFC 5425). RELP has no IANA port;
 * 2514 is the one rsyslog's documentation uses for imrelp.
 */
export const defaultSyslogPorts: Record<SyslogTransport, number> = { udp: 514, tcp: 514, tls: 6514, relp: 2514, "relp-tls": 2514 };

export const syslogSchema = withRules(
  z
    .object({
      host: hostSchema.describe("Receiver host name or IP address."),
      port: z.int().min(1).max(65535).optional().describe("Receiver port. Default: 514 for udp and tcp, 6514 for tls, 2514 for relp and relp-tls."),
      transport: z
        .enum(syslogTransports)
        .default("tls")
        .describe("udp (RFC 5426, unacknowledged), tcp (RFC 6587 octet counting), tls (RFC 5425), or relp / relp-tls (rsyslog's RELP, every message acknowledged; plain or over TLS)."),
      facility: z.int().min(0).max(23).default(13).describe("Syslog facility number; 13 is \"log audit\"."),
      appName: z.string().min(1).max(48).regex(/^[!-~]{1,48}$/, "must be 1 to 48 printable ASCII characters without spaces").default("trailkeeper").describe("RFC 5424 APP-NAME."),
      tls: tlsSchema.optional(),
    })
    .describe("Syslog, RFC 5424 messages."),
  [
    {
      rule: `!has(self.tls) || self.transport in [${syslogTlsTransports.map((t) => `'${t}'`).join(", ")}]`,
      message: "tls settings apply only to transports tls and relp-tls",
      reason: "FieldValueForbidden",
      fieldPath: ".tls",
      holds: (v) => v.tls === undefined || (syslogTlsTransports as readonly string[]).includes(v.transport),
    },
  ],
);

export const destinationBlocks = {
  webhook: webhookSchema,
  splunkHec: splunkHecSchema,
  datadog: datadogSchema,
  elasticsearch: elasticsearchSchema,
  syslog: syslogSchema,
} as const;

export type DestinationKind = keyof typeof destinationBlocks;
export const destinationKinds = Object.keys(destinationBlocks) as [DestinationKind, ...DestinationKind[]];
export type DestinationConfig<K extends DestinationKind> = z.output<(typeof destinationBlocks)[K]>;
