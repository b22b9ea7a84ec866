import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { assertHostAllowed, guardedLookup, type EgressPolicy } from "../../net/egress.ts";
import { tlsConnectOptions, type ResolvedTls } from "../../net/tls.ts";

/**
 * Idle time before TCP keepalive probes start. Node then probes every second, ten times (TCP_KEEPINTVL=1,
 * TCP_KEEPCNT=10), so a peer that vanished while the connection was idle is noticed within about 20 s.
 */
export const keepAliveIdleMs = 10_000;

/** Opens a connection and resolves once it is usable: TCP connected, or TLS handshake done and verified. */
export function open(kind: "tcp" | "tls", host: string, port: number, egress: EgressPolicy, tls: ResolvedTls, signal: AbortSignal): Promise<Socket | TLSSocket> {
  return new Promise((resolve, reject) => {
    assertHostAllowed(host, egress);
    const lookup = guardedLookup(egress);
    const socket =
      kind === "tls"
        ? tlsConnect({ host, port, lookup, ...tlsConnectOptions(tls) })
        : netConnect({ host, port, lookup });
    const onAbort = () => socket.destroy(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once(kind === "tls" ? "secureConnect" : "connect", () => {
      signal.removeEventListener("abort", onAbort);
      resolve(socket);
    });
    socket.once("error", (err) => {
      signal.removeEventListener("abort", onAbort);
      reject(err);
    });
  });
}

/** Ends the connection politely: for TLS, `end()` sends close_notify, which RFC 5425 asks for. */
export function closeGently(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, 1000);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on("error", () => {}); // the check already has its answer; errors while closing change nothing
    socket.end();
  });
}
