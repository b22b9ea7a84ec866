/** How this server saves configuration (contract: GET /v1/config/capabilities); "manifest" when it cannot say. */
import { useResource } from "./cache.ts";
import { api } from "./client.ts";
import type { ConfigCapabilities, ConsoleSession } from "./types.ts";

const manifestOnly: ConfigCapabilities = { save: "manifest", namespaces: [] };

/** A server without the capabilities route (older, or config:read missing) can only hand out manifests. */
const loadCapabilities = () => api.capabilities().catch((): ConfigCapabilities => manifestOnly);

export function useCapabilities(session: ConsoleSession): ConfigCapabilities | undefined {
  const r = useResource(session.scopes.includes("config:read") ? "config:capabilities" : null, loadCapabilities);
  return r.data ?? (r.loading ? undefined : manifestOnly);
}

export const can = (session: ConsoleSession, scope: "config:read" | "config:test" | "config:write") => session.scopes.includes(scope);
