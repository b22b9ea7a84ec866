/** Messages between the forwarding benchmark and its receiver child process (bench/lib/forwarding-receiver.ts). */

/** The local destinations: four HTTP protocol test servers, and syslog over TCP into rsyslogd or a bare frame counter. */
export type ReceiverKind = "webhook" | "splunkHec" | "datadog" | "elasticsearch" | "syslog-rsyslog" | "syslog-node";

export interface ReceiverConfig {
  kind: ReceiverKind;
  /** Events of any other tenant count as wrongTenant. */
  tenant: string;
  /** Keep seq, receipt time and the event's receivedAt of every event (the latency phase). */
  recordTimes: boolean;
  webhookSecret: string;
  hecToken: string;
  datadogApiKey: string;
  /** Elasticsearch API key in its encoded form, base64(id:key). */
  esApiKey: string;
}

export interface ReceiverStats {
  /** Events received, duplicates included. */
  received: number;
  unique: number;
  duplicates: number;
  /** Arrivals whose seq is not the previous arrival's seq + 1. */
  outOfOrder: number;
  wrongTenant: number;
  /** Messages without a readable seq (for rsyslog: not parsed as RFC 5424). */
  unparsable: number;
  /** Deliveries the receiver refused (bad signature, failed _bulk items, broken framing). */
  refused: number;
  firstError: string;
  firstSeq: number;
  lastSeq: number;
  maxSeq: number;
  /** Epoch milliseconds of the first and the last arrival. */
  firstReceiptMs: number;
  lastReceiptMs: number;
  /** HTTP requests (HTTP kinds only). */
  requests: number;
  /** CPU seconds of the receiver's node process (rsyslogd is measured by the parent from /proc). */
  cpuSeconds: number;
}

export type ReceiverRequest = { type: "stats" } | { type: "times" } | { type: "stop" };

export type ReceiverReply =
  | { type: "ready"; url: string; port: number; externalPid?: number }
  | { type: "stats"; stats: ReceiverStats }
  | { type: "times"; seq: Float64Array; receipt: Float64Array; receivedAt: Float64Array };
