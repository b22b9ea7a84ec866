import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * Verification of AWS Signature Version 4 in the Authorization header, as S3 does it: canonical request (URI as
 * sent, query re-encoded and sorted, the signed headers, the declared payload hash), string to sign, and the
 * date/region/service-scoped signing key. Only what the S3 client sends is covered (no presigned URLs, no chunked
 * uploads).
 */
export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

export function parseAuthorization(header: string): ParsedAuthorization | undefined {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(header);
  if (m === null) return undefined;
  return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]!, signedHeaders: m[5]!.split(";"), signature: m[6]! };
}

const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function canonicalQuery(rawQuery: string): string {
  if (rawQuery === "") return "";
  return rawQuery
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const k = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      const v = eq < 0 ? "" : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, "%20"));
      return [rfc3986(k), rfc3986(v)] as const;
    })
    .sort(([ak, av], [bk, bv]) => (ak === bk ? (av < bv ? -1 : 1) : ak < bk ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data).digest();
export const sha256Hex = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

export interface SignedRequest {
  method: string;
  /** Path and query exactly as received. */
  rawUrl: string;
  headers: Record<string, string | string[] | undefined>;
}

export function expectedSignature(req: SignedRequest, auth: ParsedAuthorization, secretAccessKey: string): string {
  const q = req.rawUrl.indexOf("?");
  const path = q < 0 ? req.rawUrl : req.rawUrl.slice(0, q);
  const query = q < 0 ? "" : req.rawUrl.slice(q + 1);
  const headerValue = (name: string) => {
    const v = req.headers[name];
    return (Array.isArray(v) ? v.join(",") : (v ?? "")).trim().replace(/\s+/g, " ");
  };
  const canonicalRequest = [
    req.method,
    path,
    canonicalQuery(query),
    auth.signedHeaders.map((h) => `${h}:${headerValue(h)}\n`).join(""),
    auth.signedHeaders.join(";"),
    headerValue("x-amz-content-sha256") || "UNSIGNED-PAYLOAD",
  ].join("\n");
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", headerValue("x-amz-date"), scope, sha256Hex(canonicalRequest)].join("\n");
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, auth.date), auth.region), auth.service), "aws4_request");
  return createHmac("sha256", signingKey).update(stringToSign).digest("hex");
}

export function signatureMatches(req: SignedRequest, auth: ParsedAuthorization, secretAccessKey: string): boolean {
  const expected = Buffer.from(expectedSignature(req, auth, secretAccessKey), "hex");
  const given = Buffer.from(auth.signature, "hex");
  return expected.length === given.length && timingSafeEqual(expected, given);
}
