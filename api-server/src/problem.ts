import type { NextFunction, Request, Response } from "express";
import type { z } from "zod";

export interface FieldError {
  path: string;
  message: string;
}

/** An RFC 9457 problem with a stable machine-readable `code`. */
export class Problem extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: FieldError[] | undefined;
  constructor(status: number, code: string, detail: string, errors?: FieldError[]) {
    super(detail);
    this.status = status;
    this.code = code;
    this.errors = errors;
  }
}

const titles: Record<number, string> = {
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
  413: "Content Too Large", 415: "Unsupported Media Type", 500: "Internal Server Error", 503: "Service Unavailable",
};

export function sendProblem(res: Response, p: Problem): void {
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

/** Maps body-parser failures to problems; anything unexpected becomes a 500 without internals. */
export function problemHandler(onUnexpected: (err: unknown, req: Request) => void) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (err instanceof Problem) return sendProblem(res, err);
    const type = (err as { type?: string }).type;
    if (type === "entity.too.large") return sendProblem(res, new Problem(413, "body_too_large", "request body exceeds the 5 MiB limit"));
    if (type === "entity.parse.failed") return sendProblem(res, new Problem(400, "malformed_json", "request body is not valid JSON"));
    if (type === "encoding.unsupported" || type === "charset.unsupported") {
      return sendProblem(res, new Problem(415, "unsupported_encoding", "request body encoding or charset is not supported"));
    }
    onUnexpected(err, req);
    sendProblem(res, new Problem(500, "internal", "internal error"));
  };
}
