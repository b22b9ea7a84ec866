import { CheckFailure, succeeded } from "../../checks/check-result.ts";
import { describeResponse, parseJson, statusFailure } from "../http.ts";
import type { DestinationFactory } from "../types.ts";
import { datadogConnection, validatePath } from "./connection.ts";
import { datadogSites } from "./sites.ts";

/** `GET /api/v1/validate` on the site's API host: checks the key and writes nothing (protocols.md §2). */
export const datadogDestination: DestinationFactory<"datadog"> = (input) => {
  const { config } = input;
  const { client, headers } = datadogConnection(input, "api");
  const siteLabel = `${config.site} (${datadogSites[config.site].label})`;
  return {
    async check(signal) {
      const res = await client.request({ method: "GET", path: validatePath, headers, signal });
      const reply = parseJson<{ valid?: boolean }>(res.text);
      if (res.status === 200 && reply?.valid === true) return succeeded(`API key is valid on ${config.endpoint === undefined ? siteLabel : client.baseUrl.origin}`);
      if (res.status === 401 || res.status === 403) {
        // Keys belong to one site, so a key from another site looks exactly like a wrong key.
        throw new CheckFailure("InvalidCredentials", `API key rejected by ${siteLabel}${config.endpoint === undefined ? "" : ` via ${client.baseUrl.origin}`}; check the key and that it belongs to this site: ${describeResponse(res, client.baseUrl)}`);
      }
      if (res.status === 200) throw new CheckFailure("UnexpectedResponse", `validate did not confirm the key: ${describeResponse(res, client.baseUrl)}`);
      throw statusFailure(res, client.baseUrl);
    },
    close: () => client.close(),
  };
};
