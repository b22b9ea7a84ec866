import { describe, expect, it } from "vitest";
import { datadogBaseUrls, datadogSiteIds } from "./sites.ts";

describe("Datadog sites", () => {
  it.each([
    ["datadoghq.com", "https://api.datadoghq.com", "https://http-intake.logs.datadoghq.com"],
    ["us3.datadoghq.com", "https://api.us3.datadoghq.com", "https://http-intake.logs.us3.datadoghq.com"],
    ["us5.datadoghq.com", "https://api.us5.datadoghq.com", "https://http-intake.logs.us5.datadoghq.com"],
    ["datadoghq.eu", "https://api.datadoghq.eu", "https://http-intake.logs.datadoghq.eu"],
    ["ap1.datadoghq.com", "https://api.ap1.datadoghq.com", "https://http-intake.logs.ap1.datadoghq.com"],
    ["ddog-gov.com", "https://api.ddog-gov.com", "https://http-intake.logs.ddog-gov.com"],
  ] as const)("%s → %s and %s", (site, api, intake) => {
    expect(datadogBaseUrls(site)).toEqual({ api, intake });
  });

  it("follows the api./http-intake.logs. pattern for every site", () => {
    for (const site of datadogSiteIds) expect(datadogBaseUrls(site)).toEqual({ api: `https://api.${site}`, intake: `https://http-intake.logs.${site}` });
  });

  it("lets an endpoint override serve both", () => {
    expect(datadogBaseUrls("datadoghq.eu", "http://127.0.0.1:8126/")).toEqual({ api: "http://127.0.0.1:8126", intake: "http://127.0.0.1:8126" });
  });
});
