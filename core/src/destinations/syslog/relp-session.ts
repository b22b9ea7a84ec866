import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { closeGently, keepAliveIdleMs, open } from "./connection.ts";
import type { StreamEndpoint } from "./stream-transport.ts";
import { encodeRelpFrame, nextTxnr, openRefusal, parseRelpResponse, RelpFrameParser, relpOpenOffers, RelpProtocolError, type RelpFrame, type RelpResponse } from "./relp.ts";

/** Most commands in flight before we wait for answers (librelp's default window is 128 too). */
export const relpWindow = 128;

/** The receiver answered `open` with something other than a usable syslog session. */
export class RelpOpenRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RelpOpenRefusedError";
  }
}

interface Pending {
  resolve(response: RelpResponse): void;
  reject(err: Error): void;
}

/**
 * One RELP session on one connection: commands numbered 1…999999999 (then 1 again), answers matched by TXNR in
 * the order sent. Any failure ends the whole session and every unanswered command with it, which is what the
 * spec asks for ("outstanding commands are considered to have been unsuccessful").
 */
export class RelpSession {
  readonly socket: Socket | TLSSocket;
  readonly #answerTimeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  readonly #parser = new RelpFrameParser();
  readonly #windowWaiters = new Set<() => void>();
  #txnr = 0;
  #failure: Error | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  /** The receiver's `relp_software` offer, for the check's message. */
  receiverSoftware = "";

  private constructor(socket: Socket | TLSSocket, answerTimeoutMs: number) {
    this.socket = socket;
    this.#answerTimeoutMs = answerTimeoutMs;
    socket.setKeepAlive(true, keepAliveIdleMs);
    socket.on("data", (chunk: Buffer) => this.#receive(chunk));
    socket.on("end", () => this.fail(new Error(`the receiver closed the connection${this.#unanswered()}`)));
    socket.on("close", () => this.fail(new Error(`the connection closed${this.#unanswered()}`)));
    socket.on("error", (err) => this.fail(err));
  }

  /** Connects and completes the `open` handshake; the session is usable only after the receiver's answer. */
  static async open(endpoint: StreamEndpoint, signal: AbortSignal): Promise<RelpSession> {
    const { kind, host, port, egress, tls, timeoutMs } = endpoint;
    const socket = await open(kind, host, port, egress, tls, signal);
    const session = new RelpSession(socket, timeoutMs);
    const onAbort = () => session.fail(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const answer = await session.command("open", Buffer.from(relpOpenOffers, "utf8"));
      const refusal = openRefusal(answer);
      if (refusal !== undefined) throw new RelpOpenRefusedError(refusal);
      session.receiverSoftware = /(?:^|\n)relp_software=([^\n]*)/.exec(answer.body)?.[1] ?? "";
      return session;
    } catch (err) {
      session.fail(err instanceof Error ? err : new Error(String(err)));
      throw err;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  get usable(): boolean {
    return this.#failure === undefined;
  }

  get outstanding(): number {
    return this.#pending.size;
  }

  /** Sends one command; resolves with its answer, rejects when the session ends first. */
  command(command: string, data?: Buffer): Promise<RelpResponse> {
    if (this.#failure !== undefined) {
      const failed = Promise.reject(this.#failure);
      failed.catch(() => {}); // as below: the caller awaits it later
      return failed;
    }
    this.#txnr = nextTxnr(this.#txnr);
    const txnr = this.#txnr;
    const answer = new Promise<RelpResponse>((resolve, reject) => this.#pending.set(txnr, { resolve, reject }));
    answer.catch(() => {}); // callers await it later; a session failure in between must not count as unhandled
    if (this.#pending.size === 1) this.#armWatchdog(); // else it runs already, reset by each answer
    this.socket.write(encodeRelpFrame(txnr, command, data));
    return answer;
  }

  /** Resolves once fewer than `relpWindow` commands are unanswered, or at once when the session has failed. */
  windowOpen(): Promise<void> {
    if (this.#pending.size < relpWindow || this.#failure !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#windowWaiters.add(resolve));
  }

  /** Ends the session: every unanswered command fails with `err`, and the connection is dropped. */
  fail(err: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = err;
    clearTimeout(this.#watchdog);
    for (const pending of this.#pending.values()) pending.reject(err);
    this.#pending.clear();
    this.#releaseWindow();
    this.socket.destroy();
  }

  /** `close`, its answer (briefly), then the connection; a session already failed is just dropped. */
  async close(): Promise<void> {
    if (this.#failure !== undefined) return;
    const answered = this.command("close").then(
      () => true,
      () => false,
    );
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000).unref());
    await Promise.race([answered, timeout]);
    this.#failure = new Error("the session was closed");
    clearTimeout(this.#watchdog);
    await closeGently(this.socket);
  }

  #receive(chunk: Buffer): void {
    let frames: RelpFrame[];
    try {
      frames = this.#parser.push(chunk);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    for (const frame of frames) this.#dispatch(frame);
  }

  #dispatch(frame: RelpFrame): void {
    if (frame.txnr === 0 && frame.command === "serverclose") {
      this.fail(new Error(`the receiver ended the session (serverclose)${this.#unanswered()}`));
      return;
    }
    const pending = this.#pending.get(frame.txnr);
    if (frame.command !== "rsp" || pending === undefined) {
      this.fail(new RelpProtocolError(`unexpected ${frame.command} frame with txnr ${frame.txnr}`));
      return;
    }
    let response: RelpResponse;
    try {
      response = parseRelpResponse(frame.data);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.#pending.delete(frame.txnr);
    pending.resolve(response);
    this.#armWatchdog();
    if (this.#pending.size < relpWindow) this.#releaseWindow();
  }

  /** While answers are due, the receiver must answer something every `answerTimeoutMs`, or it is taken for dead. */
  #armWatchdog(): void {
    clearTimeout(this.#watchdog);
    if (this.#pending.size === 0) return;
    this.#watchdog = setTimeout(() => {
      const err = Object.assign(new Error(`no RELP answer within ${this.#answerTimeoutMs} ms${this.#unanswered()}`), { code: "ETIMEDOUT" });
      this.fail(err);
    }, this.#answerTimeoutMs);
  }

  #releaseWindow(): void {
    for (const wake of this.#windowWaiters) wake();
    this.#windowWaiters.clear();
  }

  #unanswered(): string {
    return this.#pending.size === 0 ? "" : ` (${this.#pending.size} commands unanswered)`;
  }
}
