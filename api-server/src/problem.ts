import type { NextFunction, Request, Response } from "express";
import type { z } from "zod";
import { isDatabaseUnavailable } from "@trailkeeper/core/db/pool.ts";

export interface FieldError {
  path: string;
  message: string;
}

/** An RFC 9457 problem with a stable machine-readable `code`. */
export class Problem extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: FieldError[] | undefined;
  /** Sent as `Retry-After` (seconds) when the client should try again later (503, 429). */
  readonly retryAfterSeconds: number | undefined;
  constructor(status: number, code: string, detail: string, errors?: FieldError[], opts: { retryAfterSeconds?: number } = {}) {
    super(detail);
    this.status = status;
    this.code = code;
    this.errors = errors;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

const titles: Record<number, string> = {
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 408: "Request Timeout", 409: "Conflict",
  413: "Content Too Large", 415: "Unsupported Media Type", 429: "Too Many Requests", 500: "Internal Server Error",
  503: "Service Unavailable",
};

/** How long a client should wait before retrying while the database is unreachable. */
export const databaseRetryAfterSeconds = 5;

export function databaseUnavailable(): Problem {
  return new Problem(503, "database_unavailable", "the database is unreachable; retry later", undefined, { retryAfterSeconds: databaseRetryAfterSeconds });
}

export function sendProblem(res: Response, p: Problem): void {
  if (p.retryAfterSeconds !== undefined) res.set("retry-after", String(p.retryAfterSeconds));
  res
    .status(p.status)
    .type("application/problem+json")
    .send(JSON.stringify({
      type: `https://trailkeeper.dev/problems/${p.code.replaceAll("_", "-")}`,
      title: titles[p.status] ?? "Error",
      status: p.status,
      code: p.code,
      detail: p.message,
      ...(p.errors ? { errors: p.errors } : {}),
    }));
}

/** Turns a zod error into field paths like `events[3].actor.id`. */
export function fieldErrors(error: z.ZodError, prefix: (string | number)[] = []): FieldError[] {
  return error.issues.map((i) => ({ path: formatPath([...prefix, ...i.path]), message: i.message }));
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, k) => (typeof k === "number" ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), "");
}

/**
 * Maps body-parser failures to problems and a lost or refused database connection to a 503 with Retry-After;
 * anything unexpected becomes a 500 without internals.
 */
export function problemHandler(onUnexpected: (err: unknown, req: Request) => void) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    // A response already under way (a streamed export) cannot change its status: cut it, as express would.
    if (res.headersSent) {
      if (!isDatabaseUnavailable(err)) onUnexpected(err, req);
      return void res.destroy();
    }
    if (err instanceof Problem) return sendProblem(res, err);
    const type = (err as { type?: string }).type;
    if (type === "entity.too.large") return sendProblem(res, new Problem(413, "body_too_large", "request body exceeds the 5 MiB limit"));
    if (type === "entity.parse.failed") return sendProblem(res, new Problem(400, "malformed_json", "request body is not valid JSON"));
    if (type === "encoding.unsupported" || type === "charset.unsupported") {
      return sendProblem(res, new Problem(415, "unsupported_encoding", "request body encoding or charset is not supported"));
    }
    // A corrupt gzip/deflate/br body: body-parser passes zlib's error (which has an errno) on with status 400 and no type.
    if (type === undefined && (err as { status?: unknown }).status === 400 && typeof (err as { errno?: unknown }).errno === "number") {
      return sendProblem(res, new Problem(400, "malformed_body", "request body could not be decompressed"));
    }
    if (isDatabaseUnavailable(err)) return sendProblem(res, databaseUnavailable());
    // statement_timeout (57014 query_canceled): the database is busy or the query too broad, not the server broken.
    if ((err as { code?: unknown }).code === "57014") {
      return sendProblem(res, new Problem(503, "query_timeout", "the query took longer than the server allows; narrow the filter or retry later", undefined, { retryAfterSeconds: databaseRetryAfterSeconds }));
    }
    onUnexpected(err, req);
    sendProblem(res, new Problem(500, "internal", "internal error"));
  };
}
