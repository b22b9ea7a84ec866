/**
 * Datadog sites by the name users set as DD_SITE, with the hosts that site serves (protocols.md §2). A key is only
 * valid on its own site, so the site is part of the credential, not a tuning knob.
 */
export const datadogSites = {
  "datadoghq.com": { label: "US1", apiHost: "api.datadoghq.com", intakeHost: "http-intake.logs.datadoghq.com" },
  "us3.datadoghq.com": { label: "US3", apiHost: "api.us3.datadoghq.com", intakeHost: "http-intake.logs.us3.datadoghq.com" },
  "us5.datadoghq.com": { label: "US5", apiHost: "api.us5.datadoghq.com", intakeHost: "http-intake.logs.us5.datadoghq.com" },
  "datadoghq.eu": { label: "EU1", apiHost: "api.datadoghq.eu", intakeHost: "http-intake.logs.datadoghq.eu" },
  "ap1.datadoghq.com": { label: "AP1", apiHost: "api.ap1.datadoghq.com", intakeHost: "http-intake.logs.ap1.datadoghq.com" },
  "ap2.datadoghq.com": { label: "AP2", apiHost: "api.ap2.datadoghq.com", intakeHost: "http-intake.logs.ap2.datadoghq.com" },
  "uk1.datadoghq.com": { label: "UK1", apiHost: "api.uk1.datadoghq.com", intakeHost: "http-intake.logs.uk1.datadoghq.com" },
  "ddog-gov.com": { label: "US1-FED", apiHost: "api.ddog-gov.com", intakeHost: "http-intake.logs.ddog-gov.com" },
  "us2.ddog-gov.com": { label: "US2-FED", apiHost: "api.us2.ddog-gov.com", intakeHost: "http-intake.logs.us2.ddog-gov.com" },
} as const;

export type DatadogSite = keyof typeof datadogSites;
export const datadogSiteIds = Object.keys(datadogSites) as [DatadogSite, ...DatadogSite[]];

/**
 * Base URLs for the validate API and the logs intake. An `endpoint` override (a proxy, or a test server) serves
 * both, because proxies such as the Datadog agent's forwarder expose one address.
 */
export function datadogBaseUrls(site: DatadogSite, endpoint?: string): { api: string; intake: string } {
  if (endpoint !== undefined) {
    const base = endpoint.replace(/\/+$/, "");
    return { api: base, intake: base };
  }
  const hosts = datadogSites[site];
  return { api: `https://${hosts.apiHost}`, intake: `https://${hosts.intakeHost}` };
}
