import express, { type Request, type Response } from "express";
import { Problem } from "../problem.ts";

export const maxBodyBytes = 5 * 1024 * 1024;

// Fatal: body-parser's decoder would turn invalid bytes into U+FFFD, and the stored event would differ from the sent one.
const utf8 = new TextDecoder("utf-8", { fatal: true });

const charsetOf = (contentType: string | undefined) => /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? "")?.[1]?.toLowerCase();

/**
 * JSON bodies only (other content types get 415 before anything is read), at most 5 MiB after decompression,
 * strictly UTF-8, and parsed only when every number in them keeps its exact value.
 */
export function jsonBody() {
  const read = express.raw({ limit: maxBodyBytes, type: () => true });
  return (req: Request, res: Response, next: (err?: unknown) => void) => {
    if (!req.is("application/json") && !req.is("application/*+json")) {
      return next(new Problem(415, "unsupported_media_type", "Content-Type must be application/json"));
    }
    const charset = charsetOf(req.headers["content-type"]);
    if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
      return next(new Problem(415, "unsupported_encoding", `charset ${charset} is not supported: send UTF-8`));
    }
    read(req, res, (err?: unknown) => {
      if (err !== undefined) return next(err);
      try {
        if (Buffer.isBuffer(req.body)) req.body = parseJsonBody(req.body);
        next();
      } catch (parseErr) {
        next(parseErr);
      }
    });
  };
}

/** Decodes and parses a request body, refusing anything that would not be stored exactly as sent. */
export function parseJsonBody(bytes: Uint8Array): unknown {
  // An empty body reads as an empty object, as body-parser's JSON parser did, so the schema names what is missing.
  if (bytes.length === 0) return {};
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new Problem(400, "invalid_utf8", "request body is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Problem(400, "malformed_json", "request body is not valid JSON");
  }
  const inexact = firstInexactInteger(text);
  if (inexact !== undefined) {
    throw new Problem(400, "inexact_number", `the integer ${inexact.length > 40 ? `${inexact.slice(0, 40)}…` : inexact} is beyond ±(2^53−1) and cannot be stored exactly; send it as a string`);
  }
  return value;
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isNumberChar = (c: number) => isDigit(c) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x45 || c === 0x65;

/**
 * The first integer literal (no fraction, no exponent) in valid JSON text that a JavaScript number cannot hold
 * exactly, or undefined. JSON.parse would round it silently, so the stored event would not be the one sent.
 */
export function firstInexactInteger(text: string): string | undefined {
  // An unsafe integer has at least 16 digits; most bodies have no such run at all.
  if (!/\d{16}/.test(text)) return undefined;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x2d || isDigit(c)) {
      let end = i + 1;
      while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
      const token = text.slice(i, end);
      if (/^-?\d{16,}$/.test(token) && !Number.isSafeInteger(Number(token))) return token;
      i = end - 1;
    }
  }
  return undefined;
}
