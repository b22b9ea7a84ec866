import { describe, expect, it } from "vitest";
import { CheckFailure } from "../checks/check-result.ts";
import { defaultEgressPolicy, EgressDeniedError } from "./egress.ts";
import { allowedHttpUrl } from "./http-endpoint.ts";

describe("allowedHttpUrl", () => {
  it("takes https, and plain http only when allowed", () => {
    expect(allowedHttpUrl("https://siem.example.com/hook", false, defaultEgressPolicy).href).toBe("https://siem.example.com/hook");
    expect(allowedHttpUrl("http://minio:9000", true, defaultEgressPolicy).host).toBe("minio:9000");
    expect(() => allowedHttpUrl("http://minio:9000", false, defaultEgressPolicy)).toThrow(new CheckFailure("InvalidConfig", "plain http:// is not allowed; use https:// or set allowInsecureHttp: true"));
  });

  it("refuses other schemes and denied hosts before any connection", () => {
    expect(() => allowedHttpUrl("ftp://siem.example.com", true, defaultEgressPolicy)).toThrow("unsupported URL scheme ftp:");
    expect(() => allowedHttpUrl("http://169.254.169.254/", true, defaultEgressPolicy)).toThrow(EgressDeniedError);
  });
});
