/** A timestamp in the viewer's time zone, with the exact UTC instant on hover and for assistive technology. */
const local = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short" });

/** `2026-12-06 17:30:00 CET`: compact, sortable, unambiguous in any locale, in the viewer's own time zone. */
function compact(d: Date): string {
  const p = Object.fromEntries(local.formatToParts(d).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${p.timeZoneName ?? ""}`.trim();
}

/** Formatting is the costliest part of a row, and scrolling re-renders rows: keep what was formatted. */
const formatted = new Map<string, string>();

/** `iso` in the viewer's time zone, formatted afresh (callers that keep the text themselves need no cache). */
export function localTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : compact(d);
}

export function formatLocal(iso: string): string {
  let text = formatted.get(iso);
  if (text === undefined) {
    text = localTime(iso);
    if (formatted.size > 50_000) formatted.clear();
    formatted.set(iso, text);
  }
  return text;
}

export function Timestamp({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={`UTC: ${iso}`}>
      {formatLocal(iso)}
    </time>
  );
}
