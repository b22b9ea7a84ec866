/**
 * The Log Forwarding and Recording Storage routes (console contract). The pages and the CRD schemas they validate
 * with are a separate chunk, fetched from this server the first time one of them opens, so Audit Logs loads as
 * fast as before.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { ConsoleSession } from "../api/types.ts";
import type * as PagesModule from "./config-pages.tsx";

export type ConfigPath =
  | { page: "list" | "new" | "storage" }
  | { page: "detail" | "edit"; namespace: string; name: string };

const segment = "([^/]+)";
const resourcePath = new RegExp(`^/log-forwarding/${segment}/${segment}(/edit)?$`);
const fixed: Record<string, ConfigPath["page"]> = { "/log-forwarding": "list", "/log-forwarding/new": "new", "/recording-storage": "storage" };

/** The configuration page at `path`, or undefined when the path is not one of them. */
export function parseConfigPath(path: string): ConfigPath | undefined {
  const page = fixed[path];
  if (page === "list" || page === "new" || page === "storage") return { page };
  const m = resourcePath.exec(path);
  if (!m) return undefined;
  try {
    return { page: m[3] ? "edit" : "detail", namespace: decodeURIComponent(m[1]!), name: decodeURIComponent(m[2]!) };
  } catch {
    return undefined;
  }
}

export function configTitle(route: ConfigPath): string {
  if (route.page === "detail") return `${route.namespace}/${route.name}`;
  if (route.page === "edit") return `Edit ${route.namespace}/${route.name}`;
  return { list: "Log Forwarding", new: "New destination", storage: "Recording Storage" }[route.page];
}

type Pages = typeof PagesModule;
let loading: Promise<Pages> | undefined;

export function ConfigRoute({ route, session }: { route: ConfigPath; session: ConsoleSession }): ComponentChildren {
  const [pages, setPages] = useState<Pages | undefined>();
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    loading ??= import("./config-pages.tsx");
    loading.then(setPages, () => {
      loading = undefined;
      setFailed(true);
    });
  }, []);
  if (failed) return <p class="problem page-loading" role="alert">This page could not be loaded from the server. Reload to try again.</p>;
  if (!pages) return <p class="loading page-loading" role="status">Loading…</p>;
  return <pages.ConfigPage route={route} session={session} />;
}
