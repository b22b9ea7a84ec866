/** Audit Logs: the URL is the query; the search runs when it changes and pages in as the table scrolls. */
import { useMemo } from "preact/hooks";
import { exportUrl } from "../../api/client.ts";
import { useEventList } from "../../api/cache.ts";
import type { ConsoleSession } from "../../api/types.ts";
import { ProblemMessage } from "../../components/Problem.tsx";
import { queryFromSearchParams, queryToSearch, toApiFilters, type AuditQuery } from "../../search/query-state.ts";
import { navigate } from "../../router.ts";
import { EventTable } from "./EventTable.tsx";
import { toEventRow } from "./rows.ts";
import { SearchControls } from "./SearchControls.tsx";

export function AuditLogsPage({ session, search }: { session: ConsoleSession; search: string }) {
  const query = useMemo(() => queryFromSearchParams(new URLSearchParams(search)), [search]);
  // Relative ranges ("last 24 hours") are resolved once per URL visit, so re-renders do not move the window.
  const { filters, problems } = useMemo(() => toApiFilters(query, Date.now()), [query]);
  const list = useEventList(problems.length ? undefined : filters, toEventRow);
  const change = (q: AuditQuery) => navigate(`/audit-logs${queryToSearch(q)}`);
  const canExport = session.scopes.includes("events:export");

  return (
    <section class="page audit-logs" aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title">Audit Logs</h1>
        <div class="exports">
          {canExport && problems.length === 0 ? (
            <>
              <a class="button secondary" href={exportUrl("csv", filters)} download>
                Export CSV
              </a>
              <a class="button secondary" href={exportUrl("jsonl", filters)} download>
                Export JSONL
              </a>
            </>
          ) : (
            !canExport && <p class="muted">Export needs the events:export scope.</p>
          )}
        </div>
      </header>
      <SearchControls query={query} problems={problems} onChange={change} />
      <div class="result-bar">
        <Status count={list.events.length} hasMore={list.hasMore} loading={list.loading} blocked={problems.length > 0} />
        {problems.length === 0 && (
          <button type="button" class="secondary small" onClick={list.refresh} disabled={list.loading}>
            Refresh
          </button>
        )}
      </div>
      {list.error && <ProblemMessage error={list.error} title="The search failed" />}
      {problems.length === 0 && !list.error && list.events.length === 0 && !list.loading ? (
        <div class="empty">
          <p>No events match this search.</p>
          {(query.text || query.categories.length > 0 || query.range !== "all") && (
            <button type="button" class="secondary" onClick={() => change({ text: "", categories: [], range: "all" })}>
              Clear the search
            </button>
          )}
        </div>
      ) : (
        problems.length === 0 && <EventTable events={list.events} hasMore={list.hasMore} loading={list.loading} loadMore={list.loadMore} />
      )}
    </section>
  );
}

function Status({ count, hasMore, loading, blocked }: { count: number; hasMore: boolean; loading: boolean; blocked: boolean }) {
  const text = blocked ? "" : loading && count === 0 ? "Loading events…" : `${count.toLocaleString("en")} event${count === 1 ? "" : "s"} loaded${hasMore ? ", more available" : ""}`;
  return (
    <p class="result-status muted" role="status">
      {text}
    </p>
  );
}
