/** Log Forwarding: every destination of the tenant with its health and delivery statistics, refreshed every few seconds. */
import { ScrollBox } from "../../components/ScrollBox.tsx";
import { useResource } from "../../api/cache.ts";
import { can } from "../../api/capabilities.ts";
import { api } from "../../api/client.ts";
import type { ConsoleSession, MirroredResource } from "../../api/types.ts";
import { conditionOf, StatusBadge } from "../../components/Conditions.tsx";
import { ProblemMessage } from "../../components/Problem.tsx";
import { cellText } from "../../components/text.ts";
import { Timestamp } from "../../components/Timestamp.tsx";
import { usePoll } from "../../components/usePoll.ts";
import { linkClick } from "../../router.ts";
import { typeLabels, type DestinationKind } from "./form-model.ts";

export const destinationHref = (d: { namespace: string; name: string }) => `/log-forwarding/${encodeURIComponent(d.namespace)}/${encodeURIComponent(d.name)}`;
const count = (n: number | undefined) => (n === undefined ? "—" : n.toLocaleString("en"));
export const typeLabel = (t: string | null) => (t ? (typeLabels[t as DestinationKind] ?? t) : "—");

export function LogForwardingListPage({ session }: { session: ConsoleSession }) {
  const list = useResource("config:destinations", api.destinations);
  usePoll(list.reload);
  const rows = list.data?.destinations;

  return (
    <section class="page flow" aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title">Log Forwarding</h1>
        {can(session, "config:write") && (
          <a class="button" href="/log-forwarding/new" onClick={linkClick}>
            New destination
          </a>
        )}
      </header>
      <p class="muted">Destinations receive this tenant's audit events as they are written. The list refreshes every 5 seconds.</p>
      {list.error && <ProblemMessage error={list.error} title="The destinations could not be loaded" />}
      {!rows && !list.error && (
        <p class="loading" role="status">
          Loading destinations…
        </p>
      )}
      {rows && rows.length === 0 && (
        <div class="empty">
          <p>No destinations yet.</p>
          <p class="muted">
            {can(session, "config:write") ? "Create one with New destination, or apply a LogForwardingDestination with kubectl." : "Apply a LogForwardingDestination with kubectl (docs/crds.md)."}
          </p>
        </div>
      )}
      {rows && rows.length > 0 && <DestinationTable rows={rows} />}
    </section>
  );
}

function DestinationTable({ rows }: { rows: MirroredResource[] }) {
  return (
    <ScrollBox label="Destinations (scrolls sideways)">
      <table class="plain destinations">
        <caption class="visually-hidden">Destinations</caption>
        <thead>
          <tr>
            {["Name", "Type", "Format", "Enabled", "Ready", "Delivering", "Delivered", "Failed", "Dead-lettered", "Lag", "Last delivery"].map((h) => (
              <th key={h} scope="col" class={["Delivered", "Failed", "Dead-lettered", "Lag"].includes(h) ? "num" : undefined}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((d) => (
            <DestinationRow key={`${d.namespace}/${d.name}`} d={d} />
          ))}
        </tbody>
      </table>
    </ScrollBox>
  );
}

function DestinationRow({ d }: { d: MirroredResource }) {
  const ready = conditionOf(d.conditions, "Ready");
  const delivering = conditionOf(d.conditions, "Delivering");
  const delivery = d.delivery ?? {};
  return (
    <tr>
      <th scope="row">
        <a href={destinationHref(d)} onClick={linkClick}>
          {cellText(`${d.namespace}/${d.name}`)}
        </a>
      </th>
      <td>{typeLabel(d.type)}</td>
      <td>{cellText(d.format ?? "—")}</td>
      <td>{d.enabled ? "Yes" : "No"}</td>
      <td>
        <StatusBadge status={ready?.status} {...(ready ? { label: `${ready.status}${ready.status === "True" ? "" : ` · ${ready.reason}`}` } : {})} />
      </td>
      <td>
        <StatusBadge status={delivering?.status} {...(delivering ? { label: `${delivering.status}${delivering.status === "True" ? "" : ` · ${delivering.reason}`}` } : {})} />
      </td>
      <td class="num">{count(delivery.delivered)}</td>
      <td class="num">{count(delivery.failed)}</td>
      <td class="num">{count(delivery.deadLettered)}</td>
      <td class="num">{count(delivery.lagEvents)}</td>
      <td>{delivery.lastDeliveredAt ? <Timestamp iso={delivery.lastDeliveredAt} /> : "—"}</td>
    </tr>
  );
}
