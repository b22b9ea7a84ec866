import { randomBytes } from "node:crypto";
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { objectLockLayer } from "./s3-object-lock.ts";
import { parseAuthorization, sha256Hex, signatureMatches } from "./sigv4.ts";

/**
 * The identity-and-policy layer s3rver lacks, in front of it: verifies each request's SigV4 signature against
 * its own key table, applies the key's policy, and forwards allowed requests to s3rver unsigned (s3rver serves
 * anonymous requests). Errors use S3's codes and XML bodies (protocols.md §6), so the S3 client sees what AWS or
 * MinIO would send for a wrong secret, a wrong region, or a bucket policy that denies writes.
 */
export type S3Action = "s3:ListBucket" | "s3:GetObject" | "s3:PutObject" | "s3:DeleteObject";

export interface GatewayKey {
  secretAccessKey: string;
  /** Actions this key may perform; everything else is AccessDenied. */
  allow: readonly S3Action[];
}

export const policies = {
  readWrite: ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
  /** A read-only bucket policy: lists and reads pass, PutObject and DeleteObject are denied. */
  readOnly: ["s3:ListBucket", "s3:GetObject"],
  /** An object-only key without s3:ListBucket: HeadBucket is denied, the object round trip works. */
  objectsOnly: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
  /** A WORM-like bucket: writes and reads pass, deletes are denied. */
  noDelete: ["s3:ListBucket", "s3:GetObject", "s3:PutObject"],
} as const satisfies Record<string, readonly S3Action[]>;

export interface S3IamGateway {
  endpoint: string;
  region: string;
  /** Actions decided, for assertions: which step reached which verdict. */
  decisions: { action: S3Action; accessKeyId: string; path: string; allowed: boolean }[];
  close(): Promise<void>;
}

function actionOf(method: string, path: string): S3Action {
  const isObject = path.split("/").filter((p) => p !== "").length > 1;
  if (!isObject) return "s3:ListBucket";
  if (method === "PUT" || method === "POST") return "s3:PutObject";
  if (method === "DELETE") return "s3:DeleteObject";
  return "s3:GetObject";
}

function s3Error(res: ServerResponse, method: string, status: number, code: string, message: string): void {
  const body =
    method === "HEAD"
      ? ""
      : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${randomBytes(8).toString("hex").toUpperCase()}</RequestId><HostId>trailkeeper-test</HostId></Error>`;
  res.writeHead(status, { "content-type": "application/xml", "content-length": Buffer.byteLength(body), "x-amz-request-id": randomBytes(8).toString("hex") });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * `objectLockBuckets`: buckets that behave as if created with S3 Object Lock (s3-object-lock.ts, which also adds
 * conditional writes with `If-None-Match: *` for every bucket).
 */
export async function startS3IamGateway(options: { upstream: string; keys: Record<string, GatewayKey>; region?: string; objectLockBuckets?: string[] }): Promise<S3IamGateway> {
  const region = options.region ?? "us-east-1";
  const upstream = new URL(options.upstream);
  const decisions: S3IamGateway["decisions"] = [];
  const lock = objectLockLayer(options.objectLockBuckets ?? [], s3Error);
  const exists = (rawUrl: string) => new Promise<boolean>((resolve) => {
    const head = httpRequest({ host: upstream.hostname, port: upstream.port, method: "HEAD", path: rawUrl.split("?")[0] }, (up) => {
      up.resume();
      resolve(up.statusCode === 200);
    });
    head.on("error", () => resolve(false));
    head.end();
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? "GET";
    const rawUrl = req.url ?? "/";
    const body = await readBody(req);
    const auth = parseAuthorization(req.headers.authorization ?? "");
    if (auth === undefined) return s3Error(res, method, 403, "AccessDenied", "Access Denied");
    const key = options.keys[auth.accessKeyId];
    if (key === undefined) return s3Error(res, method, 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
    if (auth.region !== region) {
      return s3Error(res, method, 400, "AuthorizationHeaderMalformed", `The authorization header is malformed; the region '${auth.region}' is wrong; expecting '${region}'`);
    }
    const declared = req.headers["x-amz-content-sha256"];
    if (typeof declared === "string" && /^[0-9a-f]{64}$/.test(declared) && declared !== sha256Hex(body)) {
      return s3Error(res, method, 400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    if (!signatureMatches({ method, rawUrl, headers: req.headers }, auth, key.secretAccessKey)) {
      return s3Error(res, method, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
    }
    const path = decodeURIComponent(rawUrl.split("?")[0]!);
    const action = actionOf(method, path);
    const allowed = key.allow.includes(action);
    decisions.push({ action, accessKeyId: auth.accessKeyId, path, allowed });
    if (!allowed) return s3Error(res, method, 403, "AccessDenied", "Access Denied");
    if (await lock.handle(req, res, { method, rawUrl, exists: () => exists(rawUrl) })) return;

    const headers = { ...req.headers, host: upstream.host };
    delete headers.authorization;
    const forwarded = httpRequest({ host: upstream.hostname, port: upstream.port, method, path: rawUrl, headers }, (up) => {
      if (method === "PUT" && up.statusCode === 200) lock.stored(req, rawUrl);
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    forwarded.on("error", () => s3Error(res, method, 502, "BadGateway", "upstream failed"));
    forwarded.end(body);
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region,
    decisions,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
