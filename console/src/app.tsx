/** The console's root: finds the session, then routes between the sign-in page and the signed-in pages. */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, onSignedOut, signedOutCodes } from "./api/client.ts";
import { clearCache } from "./api/cache.ts";
import type { ConsoleSession } from "./api/types.ts";
import { Shell } from "./components/Shell.tsx";
import { AuditLogsPage } from "./pages/audit-logs/AuditLogsPage.tsx";
import { ConfigRoute, configTitle, parseConfigPath } from "./pages/config-routes.tsx";
import { IntegrityPage } from "./pages/integrity/IntegrityPage.tsx";
import { SignInPage } from "./pages/signin/SignInPage.tsx";
import { navigate, useLocation } from "./router.ts";

type SessionState = { kind: "checking" } | { kind: "signed-in"; session: ConsoleSession } | { kind: "signed-out"; reason?: ApiError };

const pageTitles: Record<string, string> = { "/audit-logs": "Audit Logs", "/integrity": "Integrity", "/signin": "Sign in" };

export function App() {
  const loc = useLocation();
  const [state, setState] = useState<SessionState>({ kind: "checking" });

  useEffect(() => {
    // A one-time link is exchanged by the sign-in page itself; asking for a session first would be wasted.
    if (loc.path === "/signin" && window.location.hash.includes("token=")) return setState({ kind: "signed-out" });
    api.currentSession().then(
      (session) => setState({ kind: "signed-in", session }),
      (e: unknown) => setState({ kind: "signed-out", ...(e instanceof ApiError && e.code !== "no_session" ? { reason: e } : {}) }),
    );
    // Only at start: later changes come from sign-in, sign-out and 401 answers.
  }, []);

  useEffect(
    () =>
      onSignedOut((e) => {
        if (!e.code || !signedOutCodes.has(e.code)) return;
        clearCache();
        setState({ kind: "signed-out", reason: e });
        navigate(`/signin?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
      }),
    [],
  );

  useEffect(() => {
    const config = parseConfigPath(loc.path);
    document.title = `${pageTitles[loc.path] ?? (config ? configTitle(config) : "Trailkeeper")} · Trailkeeper`;
  }, [loc.path]);

  if (state.kind === "checking") return <p class="loading page-loading" role="status">Loading…</p>;

  if (state.kind === "signed-out" || loc.path === "/signin") {
    if (state.kind === "signed-in" && loc.path === "/signin" && !window.location.hash.includes("token=")) {
      navigate("/audit-logs", { replace: true });
      return null;
    }
    if (loc.path !== "/signin") {
      navigate(`/signin${loc.path === "/" ? "" : `?next=${encodeURIComponent(loc.path + loc.search)}`}`, { replace: true });
      return null;
    }
    return (
      <SignInPage
        {...(state.kind === "signed-out" && state.reason ? { reason: state.reason } : {})}
        onSignedIn={(session) => {
          clearCache();
          setState({ kind: "signed-in", session });
        }}
      />
    );
  }

  const signOut = async () => {
    await api.signOut().catch(() => undefined);
    clearCache();
    setState({ kind: "signed-out" });
    navigate("/signin");
  };

  const config = state.session.scopes.includes("config:read") ? parseConfigPath(loc.path) : undefined;
  return (
    <Shell session={state.session} path={loc.path} onSignOut={signOut}>
      {config ? (
        <ConfigRoute route={config} session={state.session} />
      ) : loc.path === "/integrity" ? (
        <IntegrityPage session={state.session} />
      ) : loc.path === "/audit-logs" ? (
        <AuditLogsPage session={state.session} search={loc.search} />
      ) : (
        <Redirect to="/audit-logs" />
      )}
    </Shell>
  );
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}
