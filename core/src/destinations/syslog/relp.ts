/**
 * RELP framing (rsyslog's Reliable Event Logging Protocol, librelp doc/relp.md), kept free of sockets so the exact
 * bytes can be tested: `TXNR SP COMMAND SP DATALEN [SP DATA] LF`.
 */

/** TXNR is 1 to 9 digits; after 999999999 it wraps to 1 (0 is reserved for server hints such as serverclose). */
export const relpMaxTxnr = 999_999_999;

/** What we offer in `open`; rsyslog's imrelp answers with the offers it accepts. */
export const relpOpenOffers = "relp_version=0\nrelp_software=trailkeeper,0.1.0,https://trailkeeper.dev\ncommands=syslog";

/**
 * Largest DATA we accept from a receiver: answers are a status line and, for `open`, a few offers. Bounding it
 * keeps a hostile peer from making us buffer without end (the spec's DoS note on DATALEN).
 */
export const relpMaxResponseBytes = 64 * 1024;

export interface RelpFrame {
  txnr: number;
  command: string;
  data: Buffer;
}

export class RelpProtocolError extends Error {
  constructor(message: string) {
    super(`RELP protocol error: ${message}`);
    this.name = "RelpProtocolError";
  }
}

export function nextTxnr(txnr: number): number {
  return txnr >= relpMaxTxnr ? 1 : txnr + 1;
}

export function encodeRelpFrame(txnr: number, command: string, data: Buffer = Buffer.alloc(0)): Buffer {
  const header = data.length === 0 ? `${txnr} ${command} 0` : `${txnr} ${command} ${data.length} `;
  return Buffer.concat([Buffer.from(header, "ascii"), data, Buffer.from("\n", "ascii")]);
}

const headerPattern = /^(\d{1,9}) ([A-Za-z]{1,32}) (\d{1,9})$/;

/** Longest header: 9 digits, space, 32 letters, space, 9 digits, and the separator after it. */
const maxHeaderBytes = 9 + 1 + 32 + 1 + 9 + 1;

/** Splits a byte stream into frames; frames may arrive in any pieces. Malformed input throws RelpProtocolError. */
export class RelpFrameParser {
  #buffer: Buffer = Buffer.alloc(0);
  readonly #maxData: number;

  constructor(maxData = relpMaxResponseBytes) {
    this.#maxData = maxData;
  }

  push(chunk: Buffer): RelpFrame[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const frames: RelpFrame[] = [];
    for (let frame = this.#next(); frame !== undefined; frame = this.#next()) frames.push(frame);
    return frames;
  }

  #next(): RelpFrame | undefined {
    const header = this.#header();
    if (header === undefined) return undefined;
    const { txnr, command, dataLength, dataStart } = header;
    const end = dataStart + dataLength;
    if (this.#buffer.length < end + 1) return undefined;
    if (this.#buffer[end] !== 0x0a) throw new RelpProtocolError(`frame ${txnr} ${command} does not end with LF after ${dataLength} data bytes`);
    const data = Buffer.from(this.#buffer.subarray(dataStart, end));
    this.#buffer = this.#buffer.subarray(end + 1);
    return { txnr, command, data };
  }

  /** The header once its three fields are complete: DATALEN ends at SP (data follows) or LF (no data). */
  #header(): { txnr: number; command: string; dataLength: number; dataStart: number } | undefined {
    const window = this.#buffer.subarray(0, maxHeaderBytes);
    const first = window.indexOf(0x20);
    const second = first < 0 ? -1 : window.indexOf(0x20, first + 1);
    const end = second < 0 ? -1 : window.findIndex((b, i) => i > second && (b === 0x20 || b === 0x0a));
    if (end < 0) {
      if (window.length >= maxHeaderBytes) throw new RelpProtocolError(`no valid header in ${JSON.stringify(window.toString("latin1"))}`);
      return undefined;
    }
    const text = window.subarray(0, end).toString("latin1");
    const match = headerPattern.exec(text);
    if (match === null) throw new RelpProtocolError(`invalid header ${JSON.stringify(text)}`);
    const dataLength = Number(match[3]);
    if (dataLength > this.#maxData) throw new RelpProtocolError(`DATALEN ${dataLength} is over the ${this.#maxData} bytes accepted`);
    const withData = this.#buffer[end] === 0x20;
    if (withData === (dataLength === 0)) throw new RelpProtocolError(`header ${JSON.stringify(text)} and its data disagree`);
    return { txnr: Number(match[1]), command: match[2]!, dataLength, dataStart: withData ? end + 1 : end };
  }
}

/** A receiver's answer: `STATUS SP HUMAN-TEXT [LF DATA]`; 200 is OK, anything else an error. */
export interface RelpResponse {
  status: number;
  message: string;
  /** What follows the status line: the accepted offers, for `open`. */
  body: string;
}

export function parseRelpResponse(data: Buffer): RelpResponse {
  const text = data.toString("utf8");
  const lf = text.indexOf("\n");
  const line = lf < 0 ? text : text.slice(0, lf);
  const match = /^(\d{3})(?: (.*))?$/.exec(line);
  if (match === null) throw new RelpProtocolError(`invalid rsp ${JSON.stringify(line.slice(0, 100))}`);
  return { status: Number(match[1]), message: match[2] ?? "", body: lf < 0 ? "" : text.slice(lf + 1) };
}

/** Offers, one per line: `NAME[=VALUE[,VALUE…]]`. */
export function parseRelpOffers(body: string): Map<string, string[]> {
  const offers = new Map<string, string[]>();
  for (const line of body.split("\n")) {
    if (line === "") continue;
    const eq = line.indexOf("=");
    const name = eq < 0 ? line : line.slice(0, eq);
    offers.set(name, eq < 0 ? [] : line.slice(eq + 1).split(","));
  }
  return offers;
}

/** Why the receiver's `open` answer does not allow a syslog session, or undefined when it does. */
export function openRefusal(response: RelpResponse): string | undefined {
  if (response.status !== 200) return `the receiver refused the session: ${response.status} ${response.message}`.trim();
  const offers = parseRelpOffers(response.body);
  if (!offers.has("relp_version")) return "the receiver's open answer has no relp_version offer";
  if (!(offers.get("commands") ?? []).includes("syslog")) return "the receiver does not accept the syslog command";
  return undefined;
}
