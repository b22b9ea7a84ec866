import type { TLSSocket } from "node:tls";
import { succeeded, type CheckOutcome } from "../../checks/check-result.ts";
import { defaultSyslogPorts } from "../../crd/destination-blocks.ts";
import { resolveAllowed } from "../../net/egress.ts";
import { resolveTls } from "../../net/tls.ts";
import type { DestinationFactory } from "../types.ts";
import { closeGently, open } from "./connection.ts";

/**
 * In TLS 1.3 the client finishes its handshake before the server has checked the client certificate, so a
 * receiver that requires one rejects it only afterwards, with an alert. Listening briefly catches that instead of
 * reporting a connection the receiver is about to refuse.
 */
export const postHandshakeGraceMs = 300;

function awaitRejection(socket: TLSSocket, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      socket.off("error", onError);
      socket.off("end", onEnd);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onError = (err: Error) => done(err);
    const onEnd = () => done(Object.assign(new Error("the receiver closed the connection right after the TLS handshake (client certificate refused?)"), { code: "ERR_TLS_PEER_CLOSED" }));
    const timer = setTimeout(() => done(), ms);
    socket.on("error", onError);
    socket.on("end", onEnd);
    socket.resume();
  });
}

/**
 * Syslog has no acknowledgement or credential, so the check connects and sends nothing: a TCP connect, or a TLS
 * handshake with certificate verification. UDP cannot be verified at all; the result says so rather than
 * pretending.
 */
export const syslogDestination: DestinationFactory<"syslog"> = ({ config, secrets, egress }) => {
  const port = config.port ?? defaultSyslogPorts[config.transport];
  const tls = resolveTls(config.tls, secrets);
  const where = `${config.host}:${port}`;
  return {
    async check(signal): Promise<CheckOutcome> {
      if (config.transport === "udp") {
        const addresses = await resolveAllowed(config.host, egress);
        const list = addresses.map((a) => a.address).join(", ");
        return succeeded(`UDP syslog cannot be verified: datagrams are not acknowledged, so delivery to ${where} is never confirmed (host resolves to ${list})`, "Unverifiable");
      }
      const socket = await open(config.transport, config.host, port, egress, tls, signal);
      if (config.transport === "tls") await awaitRejection(socket as TLSSocket, postHandshakeGraceMs);
      const detail =
        config.transport === "tls"
          ? `TLS handshake with ${where} succeeded (${(socket as TLSSocket).getProtocol() ?? "TLS"}, ${tls.rejectUnauthorized ? "certificate verified" : "certificate NOT verified: insecureSkipVerify is set"})`
          : `TCP connection to ${where} succeeded (plain TCP: messages are not encrypted)`;
      await closeGently(socket);
      return succeeded(`${detail}; syslog has no acknowledgement, so acceptance of messages is not proven`);
    },
    close: async () => {},
  };
};
