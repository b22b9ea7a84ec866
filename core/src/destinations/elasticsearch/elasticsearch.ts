import { CheckFailure, succeeded } from "../../checks/check-result.ts";
import { describeResponse, parseJson, statusFailure, type HttpClient } from "../http.ts";
import type { DestinationFactory } from "../types.ts";
import { elasticsearchConnection } from "./connection.ts";

/**
 * Privileges a forwarder needs on the target: `create_doc` to add documents with the `create` action (the only one
 * data streams accept), `auto_configure` to create the index or data stream on first write.
 */
export const writePrivilege = "create_doc";
export const autoCreatePrivilege = "auto_configure";

interface EsErrorBody {
  error?: { type?: string; reason?: string };
}

function esReason(text: string): string {
  const reason = parseJson<EsErrorBody>(text)?.error?.reason;
  return reason === undefined ? "" : `: ${reason.slice(0, 200)}`;
}

/** `GET /` needs the `monitor` cluster privilege, which a write-only key lacks: a 403 there is information, not failure. */
async function clusterInfo(client: HttpClient, headers: Record<string, string>, signal: AbortSignal): Promise<string> {
  const res = await client.request({ method: "GET", path: "/", headers, signal });
  if (res.status === 200) {
    const version = parseJson<{ version?: { number?: string } }>(res.text)?.version?.number;
    return version === undefined ? "cluster answered" : `Elasticsearch ${version}`;
  }
  if (res.status === 401) throw new CheckFailure("InvalidCredentials", `credentials rejected${esReason(res.text)}`);
  if (res.status === 403) return "cluster version not readable without the monitor privilege (fine for forwarding)";
  throw statusFailure(res, client.baseUrl);
}

async function authenticate(client: HttpClient, headers: Record<string, string>, signal: AbortSignal): Promise<string> {
  const res = await client.request({ method: "GET", path: "/_security/_authenticate", headers, signal });
  if (res.status === 200) return parseJson<{ username?: string }>(res.text)?.username ?? "unknown user";
  if (res.status === 401) throw new CheckFailure("InvalidCredentials", `credentials rejected${esReason(res.text)}`);
  throw new CheckFailure(statusFailure(res, client.baseUrl).reason, `_security/_authenticate failed (is security enabled?): ${describeResponse(res, client.baseUrl)}`);
}

interface HasPrivilegesReply {
  has_all_requested?: boolean;
  index?: Record<string, Record<string, boolean>>;
}

async function targetPrivileges(client: HttpClient, headers: Record<string, string>, target: string, signal: AbortSignal): Promise<Record<string, boolean>> {
  const body = JSON.stringify({ index: [{ names: [target], privileges: [writePrivilege, autoCreatePrivilege] }] });
  const res = await client.request({ method: "POST", path: "/_security/user/_has_privileges", headers: { ...headers, "content-type": "application/json" }, body, signal });
  if (res.status === 401) throw new CheckFailure("InvalidCredentials", `credentials rejected${esReason(res.text)}`);
  if (res.status !== 200) throw statusFailure(res, client.baseUrl);
  const privileges = parseJson<HasPrivilegesReply>(res.text)?.index?.[target];
  if (privileges === undefined) throw new CheckFailure("UnexpectedResponse", `_has_privileges did not report on ${target}`);
  return privileges;
}

export const elasticsearchDestination: DestinationFactory<"elasticsearch"> = (input) => {
  const { client, headers, target, targetLabel } = elasticsearchConnection(input);
  return {
    async check(signal) {
      const cluster = await clusterInfo(client, headers, signal);
      const user = await authenticate(client, headers, signal);
      const privileges = await targetPrivileges(client, headers, target, signal);
      if (privileges[writePrivilege] !== true) {
        throw new CheckFailure("PermissionDenied", `${user} lacks the ${writePrivilege} privilege on ${targetLabel} (grant create_doc, create, index or write)`);
      }
      const autoCreate = privileges[autoCreatePrivilege] === true ? "" : `; it cannot create ${targetLabel} (no ${autoCreatePrivilege}), so it must already exist`;
      return succeeded(`${cluster}; authenticated as ${user}; may write to ${targetLabel}${autoCreate}`);
    },
    close: () => client.close(),
  };
};
