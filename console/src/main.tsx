import { render } from "preact";
import { prefetchFirstPage } from "./api/cache.ts";
import { App } from "./app.tsx";
import { queryFromSearchParams, toApiFilters } from "./search/query-state.ts";

// Opening an Audit Logs URL: ask for its first page while the app checks the session.
// (Not for relative ranges: the page resolves "last 24 hours" itself, a moment later, to another instant.)
if (window.location.pathname === "/audit-logs") {
  const query = queryFromSearchParams(new URLSearchParams(window.location.search));
  const { filters, problems } = toApiFilters(query, Date.now());
  if (problems.length === 0 && (query.range === "all" || query.range === "custom")) prefetchFirstPage(filters);
}

render(<App />, document.getElementById("app")!);
