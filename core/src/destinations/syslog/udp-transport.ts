import { createSocket, type Socket } from "node:dgram";
import { resolveAllowed, type EgressPolicy } from "../../net/egress.ts";
import { transportFailure, type SyslogTransport } from "./transport.ts";

/**
 * RFC 5426: one message per datagram, unacknowledged. A datagram the network or a full receive buffer drops is
 * lost without anyone knowing — "delivered" here only means "sent". The host is resolved (under the egress
 * policy) once per batch, not per datagram.
 */
export function udpTransport(endpoint: { host: string; port: number; egress: EgressPolicy }): SyslogTransport {
  const where = `${endpoint.host}:${endpoint.port}`;
  let socket: Socket | undefined;
  let socketType: "udp4" | "udp6" | undefined;

  const datagram = (s: Socket, message: Buffer, address: string) =>
    new Promise<void>((resolve, reject) => s.send(message, endpoint.port, address, (err) => (err ? reject(err) : resolve())));

  return {
    async send(messages, signal) {
      try {
        const [target] = await resolveAllowed(endpoint.host, endpoint.egress);
        if (target === undefined) throw new Error(`no address for ${endpoint.host}`);
        const type = target.family === 6 ? "udp6" : "udp4";
        if (socket === undefined || socketType !== type) {
          socket?.close();
          socket = createSocket(type);
          socket.on("error", () => {}); // send callbacks report errors
          socketType = type;
        }
        for (const message of messages) {
          signal.throwIfAborted();
          await datagram(socket, message, target.address);
        }
      } catch (err) {
        throw transportFailure(where, err);
      }
    },
    async close() {
      socket?.close();
      socket = undefined;
    },
  };
}
