import type { ComponentChildren } from "preact";
import type { ConsoleSession } from "../api/types.ts";
import { linkClick } from "../router.ts";
import { cellText } from "./text.ts";

const nav = [
  { path: "/audit-logs", label: "Audit Logs" },
  { path: "/integrity", label: "Integrity" },
  { path: "/log-forwarding", label: "Log Forwarding", scope: "config:read" },
  { path: "/recording-storage", label: "Recording Storage", scope: "config:read" },
] as const;

/** The nav entry a path belongs to: itself or the section it is under (a destination's page is in Log Forwarding). */
const current = (path: string, entry: string) => path === entry || path.startsWith(`${entry}/`);

/** The signed-in frame: a sidebar (a top bar on phones) with the pages, the tenant and sign-out. */
export function Shell({ session, path, onSignOut, children }: { session: ConsoleSession; path: string; onSignOut: () => void; children: ComponentChildren }) {
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <aside class="sidebar">
        <p class="brand">Trailkeeper</p>
        <nav aria-label="Console">
          <ul>
            {nav.filter((n) => !("scope" in n) || session.scopes.includes(n.scope)).map((n) => (
              <li key={n.path}>
                <a href={n.path} onClick={linkClick} {...(current(path, n.path) ? { "aria-current": path === n.path ? "page" : "location" } : {})}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="tenant">
          <span class="tenant-label">Tenant</span>
          <span class="tenant-name" data-testid="tenant">
            {cellText(session.tenant)}
          </span>
          <button type="button" class="secondary" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </aside>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
