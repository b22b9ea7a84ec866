import { defaultSyslogPorts } from "../../crd/destination-blocks.ts";
import { allDelivered } from "../../forwarding/types.ts";
import { resolveTls } from "../../net/tls.ts";
import { encodedOnce, noProtocolLimit } from "../delivery.ts";
import type { SenderFactory } from "../types.ts";
import { formatSyslogMessage, octetCountedFrame } from "./rfc5424.ts";
import { streamTransport } from "./stream-transport.ts";
import { udpTransport } from "./udp-transport.ts";

/**
 * Largest UDP message: RFC 5426 says every receiver SHOULD take 2048 octets (only 480 are a MUST over IPv4), and
 * larger datagrams fragment on common 1500-byte links. Longer messages are truncated and marked.
 */
export const udpMaxMessageBytes = 2048;

/**
 * Syslog delivery: RFC 5424 messages over TLS (RFC 5425) or TCP with octet counting, or UDP (RFC 5426). A batch is
 * delivered when its bytes are written and flushed; no syslog receiver acknowledges more (see docs/forwarding.md).
 */
export const syslogSender: SenderFactory<"syslog"> = ({ config, secrets, egress, timeoutMs, hostname }) => {
  const port = config.port ?? defaultSyslogPorts[config.transport];
  const identity = { facility: config.facility, hostname, appName: config.appName };
  const udp = config.transport === "udp";
  const transport = udp
    ? udpTransport({ host: config.host, port, egress })
    : streamTransport({ kind: config.transport === "tls" ? "tls" : "tcp", host: config.host, port, egress, tls: resolveTls(config.tls, secrets), timeoutMs });
  const encode = encodedOnce((event) => (udp ? formatSyslogMessage(event, identity, udpMaxMessageBytes) : octetCountedFrame(formatSyslogMessage(event, identity))));
  return {
    limits: noProtocolLimit,
    encodedSize: (event) => encode(event).length,
    async send(batch, signal) {
      await transport.send(batch.map(encode), signal);
      return allDelivered(batch.length);
    },
    close: () => transport.close(),
  };
};
