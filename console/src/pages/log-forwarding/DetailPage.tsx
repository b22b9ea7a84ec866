/** One destination: its health (conditions, last check, last error), delivery over time, dead letters and actions. */
import { useResource } from "../../api/cache.ts";
import { can, useCapabilities } from "../../api/capabilities.ts";
import { api } from "../../api/client.ts";
import type { ConsoleSession, MirroredResource } from "../../api/types.ts";
import { ConditionsTable } from "../../components/Conditions.tsx";
import { ProblemMessage } from "../../components/Problem.tsx";
import { visibleText } from "../../components/text.ts";
import { Timestamp } from "../../components/Timestamp.tsx";
import { usePoll } from "../../components/usePoll.ts";
import { linkClick } from "../../router.ts";
import { DeadLetters } from "./DeadLetters.tsx";
import { DeliveryChart } from "./DeliveryChart.tsx";
import { DestinationActions } from "./DestinationActions.tsx";
import { typeLabel } from "./ListPage.tsx";
import { useDeliveryHistory } from "./useDeliveryHistory.ts";

export function DestinationPage({ session, namespace, name }: { session: ConsoleSession; namespace: string; name: string }) {
  const d = useResource(`config:destination:${namespace}/${name}`, () => api.destination(namespace, name));
  usePoll(d.reload);
  const history = useDeliveryHistory(namespace, name, d.data);
  const capabilities = useCapabilities(session);

  return (
    <section class="page flow" aria-labelledby="page-title">
      <nav aria-label="Breadcrumb" class="breadcrumb">
        <a href="/log-forwarding" onClick={linkClick}>
          Log Forwarding
        </a>{" "}
        / {namespace}
      </nav>
      <header class="page-head">
        <h1 id="page-title">{`${namespace}/${name}`}</h1>
      </header>
      {d.error && <ProblemMessage error={d.error} title={d.error.code === "unknown_destination" ? "No such destination" : "The destination could not be loaded"} />}
      {d.error?.code === "unknown_destination" && <p class="muted">Just saved? The operator reports a new destination once it has reconciled it; this page checks again every 5 seconds.</p>}
      {!d.data && !d.error && (
        <p class="loading" role="status">
          Loading…
        </p>
      )}
      {d.data && (
        <>
          <Summary d={d.data} />
          {d.data.managedBy ? (
            <p class="notice" data-testid="gitops">
              Read-only: managed by {d.data.managedBy.tool === "argocd" ? "Argo CD" : "Flux"} ({visibleText(d.data.managedBy.reason)}). Change it in its Git repository.
            </p>
          ) : (
            can(session, "config:write") && capabilities && <DestinationActions d={d.data} capabilities={capabilities} onChanged={d.reload} />
          )}
          <section class="card" aria-labelledby="health-title">
            <h2 id="health-title">Health</h2>
            <ConditionsTable conditions={d.data.conditions} />
            <LastCheckView d={d.data} />
          </section>
          <section class="card" aria-labelledby="delivery-title">
            <h2 id="delivery-title">Delivery</h2>
            <DeliveryChart samples={history.samples} source={history.source} />
          </section>
          <DeadLetters namespace={namespace} name={name} total={d.data.delivery?.deadLettered} />
        </>
      )}
    </section>
  );
}

function Summary({ d }: { d: MirroredResource }) {
  return (
    <dl class="fields summary">
      <div>
        <dt>Type</dt>
        <dd>{typeLabel(d.type)}</dd>
      </div>
      <div>
        <dt>Endpoint</dt>
        <dd class="mono">{visibleText(d.endpoint ?? (typeof d.details.site === "string" ? `Datadog ${d.details.site}` : "—"))}</dd>
      </div>
      <div>
        <dt>Format</dt>
        <dd>{d.format ?? "—"}</dd>
      </div>
      <div>
        <dt>Enabled</dt>
        <dd>{d.enabled ? "Yes" : "No"}</dd>
      </div>
      <div>
        <dt>Generation</dt>
        <dd>{d.generation}</dd>
      </div>
      <div>
        <dt>Updated</dt>
        <dd>
          <Timestamp iso={d.mirroredAt} />
        </dd>
      </div>
    </dl>
  );
}

function LastCheckView({ d }: { d: MirroredResource }) {
  const c = d.lastCheck;
  return (
    <dl class="fields">
      <div>
        <dt>Last check</dt>
        <dd>
          {c ? (
            <>
              {c.success ? "Succeeded" : "Failed"}
              {c.reason ? ` (${visibleText(c.reason)})` : ""}
              {c.latencyMs !== undefined ? `, ${c.latencyMs} ms` : ""}, <Timestamp iso={c.time} />
              {c.message && <span class="block">{visibleText(c.message)}</span>}
            </>
          ) : (
            "not checked yet"
          )}
        </dd>
      </div>
      <div>
        <dt>Last error</dt>
        <dd class="wrap">{d.lastError ? visibleText(d.lastError) : "none"}</dd>
      </div>
    </dl>
  );
}
