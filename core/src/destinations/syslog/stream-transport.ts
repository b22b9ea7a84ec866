import type { Socket } from "node:net";
import type { EgressPolicy } from "../../net/egress.ts";
import type { ResolvedTls } from "../../net/tls.ts";
import { closeGently, keepAliveIdleMs, open } from "./connection.ts";
import { transportFailure, type SyslogTransport } from "./transport.ts";

export interface StreamEndpoint {
  kind: "tcp" | "tls";
  host: string;
  port: number;
  egress: EgressPolicy;
  tls: ResolvedTls;
  timeoutMs: number;
}

/** Bytes handed to the socket per write; progress is judged per slice, so one slice must not take long alone. */
export const writeSliceBytes = 64 * 1024;

/** Frames joined into slices of about `writeSliceBytes` (a frame is never split). */
export function slices(frames: readonly Buffer[], sliceBytes = writeSliceBytes): Buffer[] {
  const out: Buffer[] = [];
  let group: Buffer[] = [];
  let size = 0;
  for (const frame of frames) {
    if (size > 0 && size + frame.length > sliceBytes) {
      out.push(Buffer.concat(group));
      group = [];
      size = 0;
    }
    group.push(frame);
    size += frame.length;
  }
  if (group.length > 0) out.push(Buffer.concat(group));
  return out;
}

/** Writes one slice and waits until the kernel took it. */
function writeSlice(socket: Socket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));
}

/**
 * Writes the frames slice by slice, each after the kernel took the one before. The watchdog: when no slice is
 * taken for `stallMs`, the receiver has stopped reading (or vanished with data unacknowledged) and its buffers
 * are full; the connection is destroyed and the batch fails, so it is sent again. Node exposes no
 * TCP_USER_TIMEOUT, so this is how a silently dead peer is noticed while data is flowing.
 */
async function writeWithProgress(socket: Socket, frames: readonly Buffer[], stallMs: number, signal: AbortSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = (pending: number) =>
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`no write progress for ${stallMs} ms with ${pending} bytes unsent (is the receiver reading?)`), { code: "ETIMEDOUT" })), stallMs);
    });
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {}); // raced below; unobserved only when the batch finished first
  const parts = slices(frames);
  let remaining = parts.reduce((n, p) => n + p.length, 0);
  try {
    for (const part of parts) {
      const written = writeSlice(socket, part);
      written.catch(() => {}); // after a stall the socket is destroyed and this write fails too; the stall is the news
      await Promise.race([written, stalled(remaining), aborted]);
      clearTimeout(timer);
      remaining -= part.length;
    }
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * One persistent connection per destination (RFC 5425 / RFC 6587 octet counting), opened on first use and again
 * after any error or after the receiver closed it. A batch is written in slices under a progress watchdog.
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
    socket.setKeepAlive(true, keepAliveIdleMs);
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
        await writeWithProgress(socket, frames, endpoint.timeoutMs, signal);
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
