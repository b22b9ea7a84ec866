import { describe, expect, it } from "vitest";
import { classifyNetworkError } from "./net-errors.ts";

const err = (code: string, extra: object = {}) => Object.assign(new Error(`boom ${code}`), { code, ...extra });

describe("classifyNetworkError", () => {
  it.each([
    ["ECONNREFUSED", "Unreachable"],
    ["ENOTFOUND", "Unreachable"],
    ["ECONNRESET", "Unreachable"],
    ["UND_ERR_SOCKET", "Unreachable"],
    ["ETIMEDOUT", "Timeout"],
    ["UND_ERR_CONNECT_TIMEOUT", "Timeout"],
    ["UND_ERR_HEADERS_TIMEOUT", "Timeout"],
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "TLSError"],
    ["SELF_SIGNED_CERT_IN_CHAIN", "TLSError"],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "TLSError"],
    ["CERT_HAS_EXPIRED", "TLSError"],
    ["ERR_TLS_CERT_ALTNAME_INVALID", "TLSError"],
    ["ERR_SSL_WRONG_VERSION_NUMBER", "TLSError"],
  ])("%s → %s", (code, reason) => {
    expect(classifyNetworkError(err(code))?.reason).toBe(reason);
  });

  it("looks through wrappers and aggregate errors", () => {
    const wrapped = new TypeError("fetch failed", { cause: err("ECONNREFUSED", { address: "127.0.0.1", port: 9 }) });
    expect(classifyNetworkError(wrapped)).toEqual({ reason: "Unreachable", message: "connection refused (127.0.0.1:9) [ECONNREFUSED]" });
    const aggregate = Object.assign(new AggregateError([err("ECONNREFUSED")], "all failed"), { code: undefined });
    expect(classifyNetworkError(aggregate)?.reason).toBe("Unreachable");
  });

  it("returns undefined for errors that are not about the network", () => {
    expect(classifyNetworkError(new Error("bug"))).toBeUndefined();
    expect(classifyNetworkError("text")).toBeUndefined();
  });
});
