/**
 * The one table of event categories. A category is derived from the prefix (the part before the first dot)
 * of an event's action; an action whose prefix is not listed here is rejected.
 */
export const categoryTable = [
  { id: "auth", label: "Authentication & SSO", prefixes: ["auth", "sso", "mfa"] },
  { id: "sessions", label: "Sessions & recordings", prefixes: ["session", "recording"] },
  { id: "resources", label: "Resources", prefixes: ["resource"] },
  { id: "secrets", label: "Secrets & vault", prefixes: ["secret", "vault"] },
  { id: "users", label: "Users & teams", prefixes: ["user", "team"] },
  { id: "permissions", label: "Groups & permissions", prefixes: ["group", "permission", "role", "policy"] },
  { id: "alerts", label: "Alerts & rules", prefixes: ["alert", "rule"] },
  { id: "api_keys", label: "API keys", prefixes: ["apikey"] },
  { id: "domains", label: "Domains & SAML", prefixes: ["domain", "saml"] },
  { id: "network", label: "VPN & mesh", prefixes: ["vpn", "mesh"] },
  { id: "billing", label: "Billing & plan", prefixes: ["billing", "plan"] },
  { id: "settings", label: "Settings changes", prefixes: ["settings"] },
  { id: "audit", label: "Audit trail", prefixes: ["audit"] },
] as const;

export type CategoryId = (typeof categoryTable)[number]["id"];

export const categoryIds = categoryTable.map((c) => c.id) as unknown as readonly [CategoryId, ...CategoryId[]];

const byPrefix = new Map<string, CategoryId>(
  categoryTable.flatMap((c) => c.prefixes.map((p) => [p, c.id] as const)),
);

/** Every allowed action prefix, with its trailing dot, as shown in error messages. */
export const allowedActionPrefixes: readonly string[] = categoryTable.flatMap((c) => c.prefixes.map((p) => `${p}.`));

export function categoryOfAction(action: string): CategoryId | undefined {
  const dot = action.indexOf(".");
  return dot > 0 ? byPrefix.get(action.slice(0, dot)) : undefined;
}
