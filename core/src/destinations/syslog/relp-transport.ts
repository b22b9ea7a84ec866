import type { SyslogTransport as SyslogTransportName } from "../../crd/destination-blocks.ts";
import { DeliveryError } from "../../forwarding/classify.ts";
import { RelpSession } from "./relp-session.ts";
import type { StreamEndpoint } from "./stream-transport.ts";
import { transportFailure } from "./transport.ts";

export function isRelp(transport: SyslogTransportName): transport is "relp" | "relp-tls" {
  return transport === "relp" || transport === "relp-tls";
}

/** How far a batch got: the first `acknowledged` messages were answered 200; `failure` says why the rest were not. */
export interface RelpBatchResult {
  acknowledged: number;
  failure?: DeliveryError;
}

export interface RelpTransport {
  /** One `syslog` command per message, at most `relpWindow` unanswered at a time. */
  send(messages: readonly Buffer[], signal: AbortSignal): Promise<RelpBatchResult>;
  close(): Promise<void>;
}

/**
 * RELP (rsyslog's acknowledged protocol) over TCP or TLS: one persistent session per destination, opened on first
 * use and again after any failure. Answers come in command order, so the acknowledged messages are always a prefix
 * of the batch; whatever was not acknowledged is reported so the forwarder sends it again (at least once).
 */
export function relpTransport(endpoint: StreamEndpoint): RelpTransport {
  const where = `${endpoint.host}:${endpoint.port}`;
  let current: RelpSession | undefined;

  async function session(signal: AbortSignal): Promise<RelpSession> {
    if (current?.usable === true) return current;
    current = undefined;
    current = await RelpSession.open(endpoint, AbortSignal.any([signal, AbortSignal.timeout(endpoint.timeoutMs)]));
    return current;
  }

  /** Counts answers into `progress` as they come, so a session lost mid-batch still reports the acknowledged prefix. */
  async function deliver(s: RelpSession, messages: readonly Buffer[], progress: { acknowledged: number }, signal: AbortSignal): Promise<RelpBatchResult> {
    const onAbort = () => s.fail(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const answers = [];
      for (const message of messages) {
        await s.windowOpen();
        if (!s.usable) break; // the first unanswered command reports why
        answers.push(s.command("syslog", message));
      }
      for (const answer of answers) {
        const { status, message } = await answer;
        if (status !== 200) {
          return { ...progress, failure: new DeliveryError("retryable", `syslog receiver ${where} refused a message: RELP ${status} ${message}`.trim()) };
        }
        progress.acknowledged++;
      }
      if (progress.acknowledged < messages.length) throw new Error(`the session ended after ${progress.acknowledged} of ${messages.length} messages`);
      return { ...progress };
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  return {
    async send(messages, signal) {
      let s: RelpSession;
      try {
        s = await session(signal);
      } catch (err) {
        return { acknowledged: 0, failure: transportFailure(where, err) };
      }
      const progress = { acknowledged: 0 };
      try {
        return await deliver(s, messages, progress, signal);
      } catch (err) {
        s.fail(err instanceof Error ? err : new Error(String(err)));
        return { acknowledged: progress.acknowledged, failure: transportFailure(where, err) };
      }
    },
    async close() {
      await current?.close();
      current = undefined;
    },
  };
}
