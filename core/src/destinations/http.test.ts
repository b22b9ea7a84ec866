import { describe, expect, it } from "vitest";
import { joinUrl, reasonForHttpStatus } from "./http.ts";

describe("reasonForHttpStatus", () => {
  it.each([
    [200, "Succeeded"],
    [202, "Succeeded"],
    [301, "UnexpectedResponse"],
    [400, "Rejected"],
    [401, "InvalidCredentials"],
    [403, "InvalidCredentials"],
    [404, "NotFound"],
    [408, "Timeout"],
    [410, "NotFound"],
    [413, "Rejected"],
    [429, "RateLimited"],
    [500, "ServerError"],
    [503, "ServerError"],
  ])("%i → %s", (status, reason) => {
    expect(reasonForHttpStatus(status)).toBe(reason);
  });
});

describe("joinUrl", () => {
  it("appends to the base path and keeps an empty path as the base", () => {
    expect(joinUrl(new URL("https://h:8088"), "/services/collector/health").href).toBe("https://h:8088/services/collector/health");
    expect(joinUrl(new URL("https://gw/splunk/"), "/services/collector").href).toBe("https://gw/splunk/services/collector");
    expect(joinUrl(new URL("https://h/hook?x=1"), "").href).toBe("https://h/hook?x=1");
  });
});
