import type { Response } from "express";

/**
 * Where an export's bytes go: the HTTP response, with backpressure (a write resolves once the client has taken
 * enough), a stall guard, and a way to know that everything written has reached the socket.
 *
 * Stalled means the response's buffer stayed full — nothing was accepted by the socket — for `stallTimeoutMs`.
 * A slow client that keeps taking bytes never stalls; neither does a quiet stretch in which the database is still
 * looking for rows, because nothing is waiting to be written then. A stalled response is reset (RST), which drops
 * what the kernel still holds for it at once, and the export fails like one whose client went away.
 */
export class ExportSink {
  readonly #res: Response;
  readonly #timer: NodeJS.Timeout;
  readonly #now: () => number;
  #last: Promise<void> = Promise.resolve();
  #blockedSince: number | undefined;
  #stalled = false;
  #bytesWritten = 0;

  constructor(res: Response, stallTimeoutMs: number, now: () => number = Date.now) {
    this.#res = res;
    this.#now = now;
    res.on("drain", () => (this.#blockedSince = undefined));
    const tick = Math.max(20, Math.min(1000, Math.floor(stallTimeoutMs / 4)));
    this.#timer = setInterval(() => this.#check(stallTimeoutMs), tick);
    this.#timer.unref();
  }

  /** True once the guard cut the response. */
  get stalled(): boolean {
    return this.#stalled;
  }

  /** Bytes handed to the response so far. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** True once the response was cut, by the client, the guard or the server. */
  get gone(): boolean {
    return this.#res.destroyed;
  }

  /** Writes a chunk; returns a promise when the caller should wait for the client before writing more. */
  write(chunk: string | Buffer): Promise<void> | undefined {
    if (this.gone) return Promise.reject(new Error("the client went away"));
    this.#bytesWritten += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
    let ok = true;
    this.#last = new Promise<void>((resolve, reject) => {
      ok = this.#res.write(chunk, (err) => (err ? reject(err) : resolve()));
    });
    this.#last.catch(() => {}); // a failed write also closes the response, which the waits below report
    return ok ? undefined : drained(this.#res);
  }

  /** Resolves once every chunk written so far has been handed to the socket. */
  flushed(): Promise<void> {
    if (this.gone) return Promise.reject(new Error("the client went away"));
    return new Promise((resolve, reject) => {
      const onClose = () => reject(new Error("the client went away"));
      this.#res.once("close", onClose);
      this.#last.then(resolve, reject).finally(() => this.#res.off("close", onClose));
    });
  }

  /** Stops the stall guard (the export is over). */
  stop(): void {
    clearInterval(this.#timer);
  }

  #check(stallTimeoutMs: number): void {
    if (!this.#res.writableNeedDrain || this.gone) {
      this.#blockedSince = undefined;
      return;
    }
    const now = this.#now();
    this.#blockedSince ??= now;
    if (now - this.#blockedSince < stallTimeoutMs) return;
    this.#stalled = true;
    this.stop();
    const socket = this.#res.socket;
    if (socket && !socket.destroyed) socket.resetAndDestroy();
    else this.#res.destroy();
  }
}

/** Resolves when the response can take more, rejects when it closes first (the client went away). */
function drained(res: Response): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.reject(new Error("the client went away"));
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      res.off("drain", onDrain);
      res.off("close", onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error("the client went away"));
    res.on("drain", onDrain);
    res.on("close", onClose);
  });
}
