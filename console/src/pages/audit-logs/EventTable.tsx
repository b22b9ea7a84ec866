/**
 * The events table, virtualised: only the rows in view (plus overscan) are in the DOM, so 10,000 loaded rows scroll
 * as smoothly as 50. Rows expand in place; expanded rows are measured and the geometry accounts for them.
 */
import { Component, createRef } from "preact";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { useResource } from "../../api/cache.ts";
import { api } from "../../api/client.ts";
import { ProblemMessage } from "../../components/Problem.tsx";
import { EventDetails } from "./EventDetails.tsx";
import { assignSlots, rowWindow, type Extra } from "./layout.ts";
import type { EventRow } from "./rows.ts";

const rowHeight = 40;
/** Rows rendered above and below the viewport. */
const overscan = 4;
/** Load the next page when the viewport is within this many rows of the end. */
const prefetchRows = 60;

interface Props {
  events: EventRow[];
  hasMore: boolean;
  loading: boolean;
  loadMore: () => void;
}

// Created once: Preact skips diffing a vnode it has seen before, so the table's fixed parts cost nothing per frame.
const caption = <caption class="visually-hidden">Audit events, newest first</caption>;
const columns = (
  <colgroup>
    <col class="c-expand" />
    <col class="c-time" />
    <col class="c-user" />
    <col class="c-action" />
    <col class="c-rtype" />
    <col class="c-resource" />
    <col class="c-ip" />
    <col class="c-outcome" />
  </colgroup>
);
const head = (
  <thead role="rowgroup">
    <tr role="row">
      <th scope="col" role="columnheader">
        <span class="visually-hidden">Details</span>
      </th>
      <th scope="col" role="columnheader">Timestamp</th>
      <th scope="col" role="columnheader">User</th>
      <th scope="col" role="columnheader">Action</th>
      <th scope="col" role="columnheader">Resource Type</th>
      <th scope="col" role="columnheader">Resource</th>
      <th scope="col" role="columnheader">Client IP</th>
      <th scope="col" role="columnheader">Outcome</th>
    </tr>
  </thead>
);

export function EventTable({ events, hasMore, loading, loadMore }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(800);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const [heights, setHeights] = useState<ReadonlyMap<string, number>>(new Map());

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setViewport(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const extras = useMemo<Extra[]>(() => {
    if (expanded.size === 0) return [];
    const out: Extra[] = [];
    events.forEach((e, index) => {
      if (expanded.has(e.id)) out.push({ index, height: heights.get(e.id) ?? 320 });
    });
    return out;
  }, [events, expanded, heights]);

  const w = rowWindow(events.length, scrollTop, viewport, rowHeight, extras, overscan);
  // Rows are keyed by slot, not by event (assignSlots): a row entering the view takes the elements of one that left.
  const slots = useRef<ReadonlyMap<number, number>>(new Map());
  slots.current = assignSlots(slots.current, w.start, w.end);
  const nearEnd = w.end >= events.length - prefetchRows;

  // Depends on nearEnd, not on the window, so scrolling does not schedule an effect every frame.
  useEffect(() => {
    if (hasMore && !loading && nearEnd) loadMore();
  }, [nearEnd, events.length, hasMore, loading]);

  // Stable callbacks, so rows that stay in view are not re-rendered while scrolling.
  const toggle = useCallback((id: string) => {
    setExpanded((current) => {
      const next = new Set(current);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  }, []);
  const measured = useCallback((id: string, h: number) => setHeights((m) => (m.get(id) === h ? m : new Map(m).set(id, h))), []);

  return (
    <div class="table-scroller" ref={scroller} onScroll={(e) => setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)}>
      {/* Explicit roles: the table is laid out with CSS grid (styles.css), which some screen readers take as a reason to drop table semantics. */}
      <table class="events" role="table">
        {caption}
        {columns}
        {head}
        <tbody role="rowgroup">
          {w.topPad > 0 && <tr aria-hidden="true" class="spacer" style={{ height: `${w.topPad}px` }} />}
          {events.slice(w.start, w.end).map((e, i) => (
            <Row key={slots.current.get(w.start + i)} event={e} open={expanded.has(e.id)} onToggle={toggle} onMeasure={measured} />
          ))}
          {w.bottomPad > 0 && <tr aria-hidden="true" class="spacer" style={{ height: `${w.bottomPad}px` }} />}
        </tbody>
      </table>
      <div class="table-foot">
        {hasMore ? (
          <button type="button" class="secondary" onClick={loadMore} disabled={loading}>
            {loading ? "Loading more…" : "Load more"}
          </button>
        ) : (
          events.length > 0 && <p class="muted">End of results.</p>
        )}
      </div>
    </div>
  );
}


interface RowProps {
  event: EventRow;
  open: boolean;
  onToggle: (id: string) => void;
  onMeasure: (id: string, h: number) => void;
}

const outcomeClass: Record<string, string> = { success: "outcome outcome-success", failure: "outcome outcome-failure", unknown: "outcome outcome-unknown" };

/** A row re-renders only when its event or its open state changes (scrolling moves the window, not the rows). */
class Row extends Component<RowProps> {
  readonly row = createRef<HTMLTableRowElement>();
  // One handler for the row's whole life that reads the event it shows when clicked: a recycled row gets a new
  // event every few frames and should not allocate a closure for it each time.
  readonly toggle = () => this.props.onToggle(this.props.event.id);
  override shouldComponentUpdate(next: RowProps): boolean {
    return next.event !== this.props.event || next.open !== this.props.open;
  }
  // A recycled row now shows another event: focus on it would silently move to that event, so it is dropped, as it
  // was when rows leaving the view were removed.
  override componentDidUpdate(previous: RowProps): void {
    const active = document.activeElement;
    if (previous.event !== this.props.event && active instanceof HTMLElement && this.row.current?.contains(active)) active.blur();
  }
  // Plain elements, no hooks, no child components, and cell text made when the page arrived (rows.ts): a fast
  // scroll updates a dozen rows a frame, so each costs as little as it can.
  override render({ event: e, open, onMeasure }: RowProps) {
    const detailsId = `details-${e.seq}`;
    return (
      <>
        <tr class={open ? "event-row open" : "event-row"} role="row" ref={this.row}>
          <td role="cell">
            <button type="button" class="expand" aria-expanded={open} aria-controls={open ? detailsId : undefined} onClick={this.toggle} title="Show details">
              <span aria-hidden="true">{open ? "▾" : "▸"}</span>
              <span class="visually-hidden">{`Details of event ${e.seq}`}</span>
            </button>
          </td>
          <td role="cell">
            <time dateTime={e.occurredAt} title={`UTC: ${e.occurredAt}`}>
              {e.time}
            </time>
          </td>
          <td role="cell">{e.user}</td>
          <td class="mono" role="cell">{e.action}</td>
          <td role="cell">{e.resourceType}</td>
          <td role="cell">{e.resource}</td>
          <td class="mono" role="cell">{e.clientIp}</td>
          <td role="cell">
            <span class={outcomeClass[e.outcome] ?? "outcome"}>{e.outcome}</span>
          </td>
        </tr>
        {open && <DetailsRow key={e.id} event={e} id={detailsId} onMeasure={onMeasure} />}
      </>
    );
  }
}

/**
 * The expanded part of a row: the table keeps only the cells' text, so the whole event is fetched when the row
 * opens (and kept by the cache for the session). Its height is measured (it varies with the event) so the geometry
 * accounts for it.
 */
function DetailsRow({ event: e, id, onMeasure }: { event: EventRow; id: string; onMeasure: RowProps["onMeasure"] }) {
  const row = useRef<HTMLTableRowElement>(null);
  const stored = useResource(`event:${e.id}`, () => api.event(e.id, e.seq));
  useLayoutEffect(() => {
    const el = row.current;
    if (!el) return;
    const ro = new ResizeObserver(() => onMeasure(e.id, el.getBoundingClientRect().height));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return (
    <tr class="details-row" role="row" ref={row}>
      <td colSpan={8} role="cell">
        {stored.data ? (
          <EventDetails event={stored.data} id={id} />
        ) : (
          <div class="details" id={id}>
            {stored.error ? (
              <>
                <ProblemMessage error={stored.error} title={`Event ${e.seq} could not be loaded`} />
                <button type="button" class="secondary small" onClick={stored.reload}>
                  Try again
                </button>
              </>
            ) : (
              <p class="muted" role="status">
                Loading event {e.seq}…
              </p>
            )}
          </div>
        )}
      </td>
    </tr>
  );
}
