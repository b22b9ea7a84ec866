import type { ComponentChildren } from "preact";
import type { ConsoleSession } from "../api/types.ts";
import { linkClick } from "../router.ts";
import { cellText } from "./text.ts";

const nav = [
  { path: "/audit-logs", label: "Audit Logs" },
  { path: "/integrity", label: "Integrity" },
];

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
            {nav.map((n) => (
              <li key={n.path}>
                <a href={n.path} onClick={linkClick} {...(path === n.path ? { "aria-current": "page" } : {})}>
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
