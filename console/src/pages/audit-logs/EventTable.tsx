/**
 * The events table, virtualised: only the rows in view (plus overscan) are in the DOM, so 10,000 loaded rows scroll
 * as smoothly as 50. Rows expand in place; expanded rows are measured and the geometry accounts for them.
 */
import { Component, createRef } from "preact";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import type { StoredEvent } from "../../api/types.ts";
import { Timestamp } from "../../components/Timestamp.tsx";
import { cellText } from "../../components/text.ts";
import { EventDetails } from "./EventDetails.tsx";
import { rowWindow, type Extra } from "./layout.ts";

const rowHeight = 40;
/** Load the next page when the viewport is within this many rows of the end. */
const prefetchRows = 60;

interface Props {
  events: StoredEvent[];
  hasMore: boolean;
  loading: boolean;
  loadMore: () => void;
}

const user = (e: StoredEvent) => (e.actor.name ? `${e.actor.name} (${e.actor.id})` : e.actor.id);
const resource = (e: StoredEvent) => (e.resource.name ? `${e.resource.name} (${e.resource.id})` : e.resource.id);

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
  <thead>
    <tr>
      <th scope="col">
        <span class="visually-hidden">Details</span>
      </th>
      <th scope="col">Timestamp</th>
      <th scope="col">User</th>
      <th scope="col">Action</th>
      <th scope="col">Resource Type</th>
      <th scope="col">Resource</th>
      <th scope="col">Client IP</th>
      <th scope="col">Outcome</th>
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

  const w = rowWindow(events.length, scrollTop, viewport, rowHeight, extras, 4);
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
      <table class="events">
        {caption}
        {columns}
        {head}
        <tbody>
          {w.topPad > 0 && <tr aria-hidden="true" class="spacer" style={{ height: `${w.topPad}px` }} />}
          {events.slice(w.start, w.end).map((e, i) => (
            <Row key={slotKey(w.start + i, w.end - w.start)} event={e} open={expanded.has(e.id)} onToggle={toggle} onMeasure={measured} />
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

/**
 * Rows are keyed by slot, not by event: with a window of n rows, row i uses slot i mod n, so the row that enters
 * the view takes the slot, and the elements, of the row that just left it. Scrolling then moves and updates a few
 * rows instead of creating and discarding them, which is what fed the major GCs behind the slowest frames.
 */
const slotKey = (index: number, windowSize: number): number => index % Math.max(1, windowSize);

interface RowProps {
  event: StoredEvent;
  open: boolean;
  onToggle: (id: string) => void;
  onMeasure: (id: string, h: number) => void;
}

/** A row re-renders only when its event or its open state changes (scrolling moves the window, not the rows). */
class Row extends Component<RowProps> {
  readonly row = createRef<HTMLTableRowElement>();
  override shouldComponentUpdate(next: RowProps): boolean {
    return next.event !== this.props.event || next.open !== this.props.open;
  }
  // A recycled row now shows another event: focus on it would silently move to that event, so it is dropped, as it
  // was when rows leaving the view were removed.
  override componentDidUpdate(previous: RowProps): void {
    const active = document.activeElement;
    if (previous.event !== this.props.event && active instanceof HTMLElement && this.row.current?.contains(active)) active.blur();
  }
  // Plain elements and no hooks: a fast scroll mounts a dozen rows a frame, so each costs as little as it can.
  override render({ event: e, open, onToggle, onMeasure }: RowProps) {
    const detailsId = `details-${e.seq}`;
    return (
      <>
        <tr class={open ? "event-row open" : "event-row"} ref={this.row}>
          <td>
            <button type="button" class="expand" aria-expanded={open} aria-controls={open ? detailsId : undefined} onClick={() => onToggle(e.id)} title="Show details">
              <span aria-hidden="true">{open ? "▾" : "▸"}</span>
              <span class="visually-hidden">{`Details of event ${e.seq}`}</span>
            </button>
          </td>
          <td>
            <Timestamp iso={e.occurredAt} />
          </td>
          <td>{cellText(user(e))}</td>
          <td class="mono">{cellText(e.action)}</td>
          <td>{cellText(e.resource.type)}</td>
          <td>{cellText(resource(e))}</td>
          <td class="mono">{cellText(e.clientIp)}</td>
          <td>
            <span class={`outcome outcome-${e.outcome}`}>{e.outcome}</span>
          </td>
        </tr>
        {open && <DetailsRow key={e.id} event={e} id={detailsId} onMeasure={onMeasure} />}
      </>
    );
  }
}

/** The expanded part of a row; its height is measured (it varies with the event) so the geometry accounts for it. */
function DetailsRow({ event: e, id, onMeasure }: { event: StoredEvent; id: string; onMeasure: RowProps["onMeasure"] }) {
  const row = useRef<HTMLTableRowElement>(null);
  useLayoutEffect(() => {
    const el = row.current;
    if (!el) return;
    const ro = new ResizeObserver(() => onMeasure(e.id, el.getBoundingClientRect().height));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return (
    <tr class="details-row" ref={row}>
      <td colSpan={8}>
        <EventDetails event={e} id={id} />
      </td>
    </tr>
  );
}
