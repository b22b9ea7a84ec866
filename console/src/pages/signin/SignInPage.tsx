/**
 * Sign-in: a one-time link (`/signin#token=…`) is exchanged for a session and the token leaves the URL at once;
 * otherwise the viewer pastes an API key holding events:read.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError } from "../../api/client.ts";
import type { ConsoleSession } from "../../api/types.ts";
import { ProblemMessage } from "../../components/Problem.tsx";
import { navigate } from "../../router.ts";

const reasons: Record<string, string> = {
  session_expired: "Your session expired. Sign in again.",
  session_revoked: "Your session was revoked. Sign in again.",
};

function linkToken(): string | undefined {
  const m = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

function nextPath(): string {
  const next = new URLSearchParams(window.location.search).get("next");
  // Only a path of this console: never an absolute URL someone slipped into the link.
  return next && /^\/(audit-logs|integrity)(\?|$)/.test(next) ? next : "/audit-logs";
}

export function SignInPage({ reason, onSignedIn }: { reason?: ApiError; onSignedIn: (s: ConsoleSession) => void }) {
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const [exchanging, setExchanging] = useState(() => linkToken() !== undefined);
  const keyInput = useRef<HTMLInputElement>(null);

  const done = (s: ConsoleSession) => {
    onSignedIn(s);
    navigate(nextPath(), { replace: true });
  };

  useEffect(() => {
    const token = linkToken();
    if (token === undefined) return;
    // The token is single-use: remove it from the address bar and history before anything else happens.
    history.replaceState(null, "", window.location.pathname + window.location.search);
    api.exchangeLink(token).then(done, (e: unknown) => {
      setExchanging(false);
      setError(e as ApiError);
    });
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const key = keyInput.current?.value.trim() ?? "";
    if (!key) {
      setError(new ApiError({ status: 0, title: "API key required", detail: "Paste an API key that has the events:read scope." }));
      keyInput.current?.focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      done(await api.signInWithKey(key));
    } catch (err) {
      setError(err as ApiError);
      setBusy(false);
    }
  };

  const why = reason?.code ? reasons[reason.code] : undefined;
  return (
    <main id="main" class="signin">
      <div class="signin-card">
        <h1>Sign in to Trailkeeper</h1>
        {why && (
          <p class="notice" role="status">
            {why}
          </p>
        )}
        {exchanging ? (
          <p role="status" class="loading">
            Signing in with your link…
          </p>
        ) : (
          <form onSubmit={submit} noValidate>
            <label for="api-key">API key</label>
            <p class="hint" id="api-key-hint">
              A key with the <code>events:read</code> scope. It is sent once to start a session and is not kept in the browser.
            </p>
            <input id="api-key" ref={keyInput} type="password" autoComplete="off" spellcheck={false} aria-describedby="api-key-hint" placeholder="tk_…" />
            <button type="submit" disabled={busy}>
              {busy ? "Signing in…" : "Sign in"}
            </button>
          </form>
        )}
        {error && <ProblemMessage error={error} title="Sign-in failed" />}
        <p class="hint">Opened a sign-in link? It works once; ask for a new one if it has expired.</p>
      </div>
    </main>
  );
}
