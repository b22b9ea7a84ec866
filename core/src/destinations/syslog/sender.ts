import { defaultSyslogPorts, type DestinationConfig } from "../../crd/destination-blocks.ts";
import { DeliveryError } from "../../forwarding/classify.ts";
import type { EventSender, SendOutcome } from "../../forwarding/types.ts";
import type { CheckpointRecord } from "../checkpoint-record.ts";
import { allDelivered } from "../../forwarding/types.ts";
import { resolveTls } from "../../net/tls.ts";
import { encodedOnce, noProtocolLimit } from "../delivery.ts";
import type { SenderFactory, SenderInput } from "../types.ts";
import { formatSyslogCheckpoint, formatSyslogMessage, octetCountedFrame, type SyslogFormat, type SyslogIdentity } from "./rfc5424.ts";
import { isRelp, relpTransport, type RelpBatchResult } from "./relp-transport.ts";
import { streamTransport, type StreamEndpoint } from "./stream-transport.ts";
import { udpTransport } from "./udp-transport.ts";

/**
 * Largest UDP message: RFC 5426 says every receiver SHOULD take 2048 octets (only 480 are a MUST over IPv4), and
 * larger datagrams fragment on common 1500-byte links. Longer messages are truncated and marked.
 */
export const udpMaxMessageBytes = 2048;

type SyslogConfig = DestinationConfig<"syslog">;

function streamEndpoint({ config, secrets, egress, timeoutMs }: SenderInput<"syslog">, port: number): StreamEndpoint {
  const kind = config.transport === "tls" || config.transport === "relp-tls" ? "tls" : "tcp";
  return { kind, host: config.host, port, egress, tls: resolveTls(config.tls, secrets), timeoutMs };
}

/** RELP answers per message, in order: the acknowledged prefix is delivered, the rest is sent again. */
export function outcomeOfRelpBatch(size: number, result: RelpBatchResult): SendOutcome {
  if (result.acknowledged >= size) return allDelivered(size);
  const failure = result.failure ?? new DeliveryError("retryable", `the syslog receiver acknowledged ${result.acknowledged} of ${size} messages`);
  if (result.acknowledged === 0) throw failure;
  const reason = failure.message;
  return { items: Array.from({ length: size }, (_, i) => (i < result.acknowledged ? { status: "delivered" as const } : { status: "retry" as const, reason })) };
}

/** How each transport wants a message: RELP and UDP carry it bare, TCP and TLS octet-counted (RFC 6587 §3.4.1). */
function encoderFor(config: SyslogConfig, identity: SyslogIdentity, format: SyslogFormat) {
  if (config.transport === "udp") return encodedOnce((event) => formatSyslogMessage(event, identity, udpMaxMessageBytes, format));
  if (isRelp(config.transport)) return encodedOnce((event) => formatSyslogMessage(event, identity, undefined, format));
  return encodedOnce((event) => octetCountedFrame(formatSyslogMessage(event, identity, undefined, format)));
}

/**
 * Syslog delivery: RFC 5424 messages over RELP (each acknowledged by the receiver), TLS (RFC 5425) or TCP with
 * octet counting, or UDP (RFC 5426). Over TCP, TLS and UDP a batch is delivered when its bytes are handed to the
 * kernel, which is all those protocols tell a sender (see docs/forwarding.md); over RELP, when it is acknowledged.
 */
export const syslogSender: SenderFactory<"syslog"> = (input): EventSender => {
  const { config, egress, hostname } = input;
  const port = config.port ?? defaultSyslogPorts[config.transport];
  const identity = { facility: config.facility, hostname, appName: config.appName };
  const encode = encoderFor(config, identity, input.format);
  const base = { limits: noProtocolLimit, encodedSize: (event: Parameters<typeof encode>[0]) => encode(event).length };
  // Checkpoints take the same framing as events on each transport.
  const checkpoint = (record: CheckpointRecord) => {
    const message = formatSyslogCheckpoint(record, identity);
    return config.transport === "udp" || isRelp(config.transport) ? message : octetCountedFrame(message);
  };
  if (isRelp(config.transport)) {
    const relp = relpTransport(streamEndpoint(input, port));
    return {
      ...base,
      send: async (batch, signal) => outcomeOfRelpBatch(batch.length, await relp.send(batch.map(encode), signal)),
      sendCheckpoint: async (record, signal) => void outcomeOfRelpBatch(1, await relp.send([checkpoint(record)], signal)),
      close: () => relp.close(),
    };
  }
  const transport = config.transport === "udp" ? udpTransport({ host: config.host, port, egress }) : streamTransport(streamEndpoint(input, port));
  return {
    ...base,
    async send(batch, signal) {
      await transport.send(batch.map(encode), signal);
      return allDelivered(batch.length);
    },
    sendCheckpoint: (record, signal) => transport.send([checkpoint(record)], signal),
    close: () => transport.close(),
  };
};
