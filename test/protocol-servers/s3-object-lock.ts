import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * The S3 behaviour s3rver 3 lacks and the witnessing tests need, answered in front of it by the SigV4 gateway,
 * after the S3 API reference (Amazon S3 API Reference: PutObject, GetObjectLockConfiguration, GetObjectRetention):
 * - `If-None-Match: *` on PutObject: 412 PreconditionFailed when the key exists (conditional writes).
 * - GetObjectLockConfiguration (`GET /<bucket>?object-lock`): `ObjectLockEnabled` Enabled for the buckets created
 *   with Object Lock, else 404 ObjectLockConfigurationNotFoundError.
 * - PutObject with `x-amz-object-lock-mode` and `x-amz-object-lock-retain-until-date`: both or neither (400
 *   InvalidArgument), mode GOVERNANCE or COMPLIANCE and a date in the future (400 InvalidArgument), Content-MD5 or
 *   an `x-amz-checksum-*` header required (400 InvalidRequest), only in a bucket with Object Lock (400 InvalidRequest).
 * - GetObjectRetention (`GET /<bucket>/<key>?retention`): the stored mode and date, else 404
 *   NoSuchObjectLockConfiguration.
 * Not modelled: versions, delete markers, legal holds, default retention rules, governance bypass.
 */
export interface ObjectLockLayer {
  /** Answers the request itself (an error or a lock API) and returns true, or returns false to forward it. */
  handle(req: IncomingMessage, res: ServerResponse, ctx: { method: string; rawUrl: string; exists: () => Promise<boolean> }): Promise<boolean>;
  /** Records the retention of a PutObject that the upstream accepted. */
  stored(req: IncomingMessage, rawUrl: string): void;
}

type S3ErrorWriter = (res: ServerResponse, method: string, status: number, code: string, message: string) => void;

const xml = (res: ServerResponse, body: string) => {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  res.writeHead(200, { "content-type": "application/xml", "content-length": Buffer.byteLength(text) });
  res.end(text);
};
const ns = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

export function objectLockLayer(lockedBuckets: readonly string[], s3Error: S3ErrorWriter): ObjectLockLayer {
  const retention = new Map<string, { mode: string; until: string }>();
  const parts = (rawUrl: string) => {
    const [path, query = ""] = rawUrl.split("?") as [string, string?];
    const segments = decodeURIComponent(path).split("/").filter((p) => p !== "");
    return { bucket: segments[0] ?? "", key: segments.slice(1).join("/"), query: new URLSearchParams(query) };
  };

  const checkLockHeaders = (req: IncomingMessage, res: ServerResponse, method: string, bucket: string): boolean => {
    const mode = req.headers["x-amz-object-lock-mode"];
    const until = req.headers["x-amz-object-lock-retain-until-date"];
    if (mode === undefined && until === undefined) return false;
    if (!lockedBuckets.includes(bucket)) return s3Error(res, method, 400, "InvalidRequest", "Bucket is missing Object Lock Configuration"), true;
    if (mode === undefined || until === undefined) return s3Error(res, method, 400, "InvalidArgument", "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"), true;
    if (mode !== "GOVERNANCE" && mode !== "COMPLIANCE") return s3Error(res, method, 400, "InvalidArgument", "Unknown wormMode directive."), true;
    const date = Date.parse(String(until));
    if (Number.isNaN(date) || date <= Date.now()) return s3Error(res, method, 400, "InvalidArgument", "The retain until date must be in the future!"), true;
    const checksum = Object.keys(req.headers).some((h) => h.startsWith("x-amz-checksum-"));
    if (req.headers["content-md5"] === undefined && !checksum) {
      return s3Error(res, method, 400, "InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters"), true;
    }
    return false;
  };

  return {
    async handle(req, res, { method, rawUrl, exists }) {
      const { bucket, key, query } = parts(rawUrl);
      if (method === "GET" && key === "" && query.has("object-lock")) {
        if (!lockedBuckets.includes(bucket)) return s3Error(res, method, 404, "ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket"), true;
        return xml(res, `<ObjectLockConfiguration ${ns}><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>`), true;
      }
      if (method === "GET" && key !== "" && query.has("retention")) {
        const r = retention.get(`${bucket}/${key}`);
        if (!r) return s3Error(res, method, 404, "NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration"), true;
        return xml(res, `<Retention ${ns}><Mode>${r.mode}</Mode><RetainUntilDate>${r.until}</RetainUntilDate></Retention>`), true;
      }
      if (method !== "PUT" || key === "") return false;
      if (checkLockHeaders(req, res, method, bucket)) return true;
      if (req.headers["if-none-match"] === "*" && (await exists())) return s3Error(res, method, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"), true;
      return false;
    },
    stored(req, rawUrl) {
      const { bucket, key } = parts(rawUrl);
      const mode = req.headers["x-amz-object-lock-mode"];
      const until = req.headers["x-amz-object-lock-retain-until-date"];
      if (typeof mode === "string" && typeof until === "string") retention.set(`${bucket}/${key}`, { mode, until: new Date(until).toISOString() });
    },
  };
}
