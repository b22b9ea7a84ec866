import type { TLSSocket } from "node:tls";
import { CheckFailure, succeeded, type CheckOutcome } from "../../checks/check-result.ts";
import { defaultSyslogPorts } from "../../crd/destination-blocks.ts";
import { resolveAllowed } from "../../net/egress.ts";
import { resolveTls } from "../../net/tls.ts";
import type { DestinationFactory } from "../types.ts";
import { closeGently, open } from "./connection.ts";
import { RelpProtocolError } from "./relp.ts";
import { RelpOpenRefusedError, RelpSession } from "./relp-session.ts";
import { isRelp } from "./relp-transport.ts";
import type { StreamEndpoint } from "./stream-transport.ts";

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

/** RELP: the `open` handshake and a `close`, so the receiver has shown it speaks RELP and takes syslog commands. */
async function checkRelp(endpoint: StreamEndpoint, signal: AbortSignal): Promise<CheckOutcome> {
  let session: RelpSession;
  try {
    session = await RelpSession.open(endpoint, signal);
  } catch (err) {
    if (err instanceof RelpOpenRefusedError) throw new CheckFailure("Rejected", `RELP receiver ${endpoint.host}:${endpoint.port}: ${err.message}`);
    if (err instanceof RelpProtocolError) throw new CheckFailure("UnexpectedResponse", `${endpoint.host}:${endpoint.port} does not answer as a RELP receiver: ${err.message}`);
    throw err;
  }
  const software = session.receiverSoftware === "" ? "" : ` (receiver ${session.receiverSoftware.split(",")[0]})`;
  const security =
    endpoint.kind === "tls"
      ? `over ${(session.socket as TLSSocket).getProtocol() ?? "TLS"}, ${endpoint.tls.rejectUnauthorized ? "certificate verified" : "certificate NOT verified: insecureSkipVerify is set"}`
      : "over plain TCP: messages are not encrypted";
  await session.close();
  return succeeded(`RELP session with ${endpoint.host}:${endpoint.port} opened and closed${software}, ${security}; every message will be acknowledged`);
}

/**
 * Plain syslog has no acknowledgement or credential, so the check connects and sends nothing: a TCP connect, or a
 * TLS handshake with certificate verification. RELP gets its `open` handshake. UDP cannot be verified at all; the
 * result says so rather than pretending.
 */
export const syslogDestination: DestinationFactory<"syslog"> = ({ config, secrets, egress, timeoutMs }) => {
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
      if (isRelp(config.transport)) {
        return checkRelp({ kind: config.transport === "relp" ? "tcp" : "tls", host: config.host, port, egress, tls, timeoutMs }, signal);
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
