import { CheckFailure } from "../checks/check-result.ts";
import { assertHostAllowed, type EgressPolicy } from "./egress.ts";

/**
 * The URL of an HTTP peer (a destination, an S3 endpoint) once it may be used: http or https only, plain http only
 * where the spec allows it (credentials cross it), and a host the egress policy permits. Checked before connecting.
 */
export function allowedHttpUrl(raw: string, allowInsecureHttp: boolean, egress: EgressPolicy): URL {
  const url = new URL(raw);
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new CheckFailure("InvalidConfig", `unsupported URL scheme ${url.protocol}`);
  if (url.protocol === "http:" && !allowInsecureHttp) throw new CheckFailure("InvalidConfig", "plain http:// is not allowed; use https:// or set allowInsecureHttp: true");
  assertHostAllowed(url.hostname, egress);
  return url;
}
