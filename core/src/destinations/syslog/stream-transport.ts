import type { Socket } from "node:net";
import type { EgressPolicy } from "../../net/egress.ts";
import type { ResolvedTls } from "../../net/tls.ts";
import { closeGently, open } from "./connection.ts";
import { transportFailure, type SyslogTransport } from "./transport.ts";

export interface StreamEndpoint {
  kind: "tcp" | "tls";
  host: string;
  port: number;
  egress: EgressPolicy;
  tls: ResolvedTls;
  timeoutMs: number;
}

/** Writes and waits until the data is flushed to the kernel, or fails on error, timeout (a receiver that stopped reading) or abort. */
function flush(socket: Socket, data: Buffer, timeoutMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      if (err === undefined || err === null) resolve();
      else {
        socket.destroy();
        reject(err);
      }
    };
    const onAbort = () => settle(signal.reason);
    const timer = setTimeout(() => settle(new Error(`${data.length} bytes not flushed within ${timeoutMs} ms (is the receiver reading?)`)), timeoutMs);
    signal.addEventListener("abort", onAbort, { once: true });
    socket.write(data, settle);
  });
}

/**
 * One persistent connection per destination (RFC 5425 / RFC 6587 octet counting), opened on first use and again
 * after any error or after the receiver closed it. A batch is one write of its frames.
 */
export function streamTransport(endpoint: StreamEndpoint): SyslogTransport {
  const where = `${endpoint.host}:${endpoint.port}`;
  let current: Socket | undefined;

  async function connection(signal: AbortSignal): Promise<Socket> {
    if (current !== undefined && !current.destroyed && current.writable) return current;
    current?.destroy();
    current = undefined;
    const { kind, host, port, egress, tls, timeoutMs } = endpoint;
    const socket = await open(kind, host, port, egress, tls, AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]));
    socket.setKeepAlive(true, 30_000);
    // Receivers send nothing, but they do close: reading lets the close be seen before the next batch is written.
    socket.on("end", () => socket.destroy());
    socket.on("error", () => {}); // the pending write reports it; otherwise the next send reconnects
    socket.resume();
    current = socket;
    return socket;
  }

  return {
    async send(frames, signal) {
      try {
        const socket = await connection(signal);
        await flush(socket, frames.length === 1 ? frames[0]! : Buffer.concat(frames), endpoint.timeoutMs, signal);
      } catch (err) {
        current?.destroy();
        current = undefined;
        throw transportFailure(where, err);
      }
    },
    async close() {
      if (current !== undefined) await closeGently(current);
      current = undefined;
    },
  };
}
