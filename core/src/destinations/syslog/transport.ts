import { classifyError, DeliveryError } from "../../forwarding/classify.ts";

/**
 * How syslog messages leave: a persistent TCP/TLS stream or UDP datagrams. Syslog has no application-level
 * acknowledgement, so `send` resolves once the bytes are handed to the network — written and flushed to the
 * kernel — which is all a sender can know.
 */
export interface SyslogTransport {
  /** Stream transports take octet-counted frames, UDP one message per datagram. */
  send(units: readonly Buffer[], signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** Every transport failure is retryable: the receiver may come back; the message names the peer and the cause. */
export function transportFailure(where: string, err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  return new DeliveryError("retryable", `syslog receiver ${where}: ${classifyError(err).message}`, { cause: err });
}
