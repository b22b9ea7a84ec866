/**
 * The one cache layer for server data: answers are kept per key for the session, so back/forward shows a page
 * instantly. Nothing else stores server data globally; sign-out clears it.
 */
import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError } from "./client.ts";
import type { EventFilters } from "../search/grammar.ts";
import { filtersToParams } from "../search/query-state.ts";
import { api } from "./client.ts";
import type { EventPage, StoredEvent } from "./types.ts";

export interface Resource<T> {
  data?: T;
  error?: ApiError;
  loading: boolean;
  reload: () => void;
}

const resources = new Map<string, unknown>();

export function clearCache(): void {
  resources.clear();
  eventLists.clear();
  firstPages.clear();
}

const asApiError = (e: unknown) => (e instanceof ApiError ? e : new ApiError({ status: 0, title: "Error", detail: String((e as Error)?.message ?? e) }));

/**
 * Loads `key` once (or on reload) and keeps the answer; `key` null means "not now". A key not cached yet is loading
 * from the first render on: a caller that takes "not loading and no data" as an answer (useCapabilities) must not
 * see that state before the request starts, or it renders a form that is torn down when the request does start.
 */
export function useResource<T>(key: string | null, load: () => Promise<T>): Resource<T> {
  const [state, setState] = useState<{ key: string | null; data?: T; error?: ApiError; loading: boolean }>(() => {
    const cached = key !== null && resources.has(key);
    return { key, data: cached ? (resources.get(key) as T) : undefined, loading: key !== null && !cached };
  });
  const fetchNow = useCallback(() => {
    if (!key) return;
    let live = true;
    setState((s) => ({ key, data: s.key === key ? s.data : undefined, loading: true }));
    load().then(
      (data) => {
        resources.set(key, data);
        if (live) setState({ key, data, loading: false });
      },
      (e: unknown) => live && setState({ key, error: asApiError(e), loading: false }),
    );
    return () => void (live = false);
  }, [key]);
  useEffect(() => {
    if (key && resources.has(key)) return setState({ key, data: resources.get(key) as T, loading: false });
    return fetchNow();
  }, [key, fetchNow]);
  const current = state.key === key ? state : { key, loading: Boolean(key) };
  return { ...current, reload: () => void fetchNow() };
}

interface EventList {
  /** What the page keeps of each event (see useEventList's `keep`). */
  events: unknown[];
  nextCursor: string | null;
  started: boolean;
}

const eventLists = new Map<string, EventList>();
/** First pages requested before the page rendered (see prefetchFirstPage), by filter key. */
const firstPages = new Map<string, Promise<EventPage>>();
/** A small first page shows results sooner; later pages are larger, so fewer requests page through long lists. */
export const firstPageSize = 50;
export const pageSize = 200;

export interface EventListState<R> {
  events: R[];
  hasMore: boolean;
  loading: boolean;
  error?: ApiError;
  loadMore: () => void;
  /** Drops the pages kept for this search and loads its newest page again. */
  refresh: () => void;
}

/**
 * Starts a search's first page at once, alongside the session check, so that opening a console link costs one
 * round trip less; useEventList takes the answer over when it mounts.
 */
export function prefetchFirstPage(filters: EventFilters): void {
  const key = filtersToParams(filters).toString();
  if (eventLists.has(key) || firstPages.has(key)) return;
  const page = api.searchEvents(filters, null, firstPageSize);
  // Failures (a missing session included) are reported when the page takes the answer over.
  page.catch(() => undefined);
  firstPages.set(key, page);
}

/**
 * Keyset paging through a search: pages accumulate (no depth cap) and are cached per filter set. `keep` turns each
 * arriving event into what the page holds on to (the table keeps only its cells), so the full events of a long
 * scroll are not all kept alive; it must be one function for the page's lifetime (the cache is shared per search).
 */
export function useEventList<R>(filters: EventFilters | undefined, keep: (e: StoredEvent) => R): EventListState<R> {
  const key = filters ? filtersToParams(filters).toString() : null;
  const [, rerender] = useState(0);
  const [status, setStatus] = useState<{ key: string | null; loading: boolean; error?: ApiError }>({ key, loading: false });
  const list = key !== null ? eventLists.get(key) : undefined;

  const fetchPage = useCallback(() => {
    if (key === null || !filters) return;
    const l = eventLists.get(key) ?? { events: [], nextCursor: null, started: false };
    if (l.started && l.nextCursor === null) return;
    eventLists.set(key, l);
    setStatus({ key, loading: true });
    const prefetched = l.started ? undefined : firstPages.get(key);
    firstPages.delete(key);
    (prefetched ?? api.searchEvents(filters, l.started ? l.nextCursor : null, l.started ? pageSize : firstPageSize)).then(
      (page) => {
        l.events = l.events.concat(page.events.map(keep));
        l.nextCursor = page.nextCursor;
        l.started = true;
        setStatus((s) => (s.key === key ? { key, loading: false } : s));
        rerender((n) => n + 1);
      },
      (e: unknown) => setStatus((s) => (s.key === key ? { key, loading: false, error: asApiError(e) } : s)),
    );
  }, [key]);

  useEffect(() => {
    if (key !== null && !eventLists.get(key)?.started) fetchPage();
  }, [key, fetchPage]);

  const mine = status.key === key ? status : { loading: key !== null && !list?.started };
  return {
    events: (list?.events ?? []) as R[],
    hasMore: Boolean(list?.started && list.nextCursor !== null),
    loading: mine.loading,
    ...("error" in mine && mine.error ? { error: mine.error } : {}),
    loadMore: () => {
      if (!mine.loading) fetchPage();
    },
    refresh: () => {
      if (key === null || mine.loading) return;
      eventLists.delete(key);
      fetchPage();
    },
  };
}
