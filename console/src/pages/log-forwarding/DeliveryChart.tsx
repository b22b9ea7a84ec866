/**
 * Delivery counters over time as a small inline SVG: delivered, failed and dead-lettered per sample. From the
 * server's delivery history when it has one, else from the counters this page has seen since it opened.
 */
import type { DeliverySample } from "../../api/types.ts";

const series = [
  { key: "delivered", label: "Delivered", cls: "s-delivered" },
  { key: "failed", label: "Failed", cls: "s-failed" },
  { key: "deadLettered", label: "Dead-lettered", cls: "s-dead" },
] as const;

const width = 560;
const height = 140;
const pad = 6;

function path(samples: DeliverySample[], key: (typeof series)[number]["key"], t0: number, t1: number, max: number): string {
  const x = (at: string) => pad + ((Date.parse(at) - t0) / Math.max(1, t1 - t0)) * (width - 2 * pad);
  const y = (v: number) => height - pad - (v / Math.max(1, max)) * (height - 2 * pad);
  return samples.map((s, i) => `${i === 0 ? "M" : "L"}${x(s.at).toFixed(1)},${y(s[key]).toFixed(1)}`).join(" ");
}

export function DeliveryChart({ samples, source }: { samples: DeliverySample[]; source: "server" | "page" }) {
  const last = samples.at(-1);
  if (!last) return <p class="muted">No delivery statistics yet.</p>;
  const t0 = Date.parse(samples[0]!.at);
  const t1 = Date.parse(last.at);
  const max = Math.max(...samples.map((s) => Math.max(s.delivered, s.failed, s.deadLettered)));
  const summary = `${samples.length} samples; latest: ${last.delivered} delivered, ${last.failed} failed, ${last.deadLettered} dead-lettered`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`Delivery counters over time. ${summary}`} preserveAspectRatio="none">
        <line x1={pad} y1={height - pad} x2={width - pad} y2={height - pad} class="axis" />
        {samples.length > 1
          ? series.map((s) => <path key={s.key} d={path(samples, s.key, t0, t1, max)} class={s.cls} />)
          : series.map((s) => <circle key={s.key} cx={width - pad} cy={height - pad - (last[s.key] / Math.max(1, max)) * (height - 2 * pad)} r={4} class={s.cls} />)}
      </svg>
      <figcaption>
        <ul class="legend">
          {series.map((s) => (
            <li key={s.key}>
              <span class={`swatch ${s.cls}`} aria-hidden="true" /> {s.label}: {last[s.key].toLocaleString("en")}
            </li>
          ))}
        </ul>
        <span class="muted">{source === "server" ? "Last 24 hours, from the server's delivery history." : "Since this page opened (the server keeps no history yet)."}</span>
      </figcaption>
    </figure>
  );
}
