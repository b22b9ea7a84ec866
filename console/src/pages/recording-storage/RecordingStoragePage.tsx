/** Recording Storage: the tenant's S3 buckets for session recordings, with their health, and a form to add or change one. */
import { ScrollBox } from "../../components/ScrollBox.tsx";
import { useState } from "preact/hooks";
import { useResource } from "../../api/cache.ts";
import { can, useCapabilities } from "../../api/capabilities.ts";
import { api } from "../../api/client.ts";
import type { ConsoleSession, MirroredResource } from "../../api/types.ts";
import { conditionOf, StatusBadge } from "../../components/Conditions.tsx";
import { ProblemMessage } from "../../components/Problem.tsx";
import { cellText, visibleText } from "../../components/text.ts";
import { Timestamp } from "../../components/Timestamp.tsx";
import { usePoll } from "../../components/usePoll.ts";
import { StorageForm } from "./StorageForm.tsx";

export function RecordingStoragePage({ session }: { session: ConsoleSession }) {
  const list = useResource("config:storages", api.recordingStorages);
  usePoll(list.reload);
  const capabilities = useCapabilities(session);
  const [editing, setEditing] = useState<MirroredResource | undefined>();
  const rows = list.data?.recordingStorages;
  const mayChange = can(session, "config:write") || can(session, "config:test");

  return (
    <section class="page flow" aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title">Recording Storage</h1>
      </header>
      <p class="muted">S3 or S3-compatible buckets where session recordings are written. Each is tested by the operator every few minutes.</p>
      {list.error && <ProblemMessage error={list.error} title="The storages could not be loaded" />}
      {!rows && !list.error && (
        <p class="loading" role="status">
          Loading storages…
        </p>
      )}
      {rows && rows.length === 0 && <div class="empty">No recording storage is configured yet.</div>}
      {rows && rows.length > 0 && <StorageTable rows={rows} onEdit={can(session, "config:write") ? (m) => setEditing(m) : undefined} />}
      {mayChange && capabilities && (
        <section class="card wide">
          <StorageForm key={editing ? `${editing.namespace}/${editing.name}` : "new"} session={session} capabilities={capabilities} {...(editing ? { editing } : {})} onSaved={list.reload} />
          {editing && (
            <button type="button" class="secondary" onClick={() => setEditing(undefined)}>
              Add a new storage instead
            </button>
          )}
        </section>
      )}
    </section>
  );
}

function StorageTable({ rows, onEdit }: { rows: MirroredResource[]; onEdit: ((m: MirroredResource) => void) | undefined }) {
  return (
    <ScrollBox label="Recording storages (scrolls sideways)">
      <table class="plain">
        <caption class="visually-hidden">Recording storages</caption>
        <thead>
          <tr>
            {["Name", "Bucket", "Region", "Endpoint", "Path-style", "Ready", "Last check", ""].map((h, i) => (
              <th key={i} scope="col">
                {h || <span class="visually-hidden">Actions</span>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((s) => {
            const ready = conditionOf(s.conditions, "Ready");
            const name = `${s.namespace}/${s.name}`;
            return (
              <tr key={name}>
                <th scope="row">{cellText(name)}</th>
                <td>{cellText(String(s.details.bucket ?? "—"))}</td>
                <td>{cellText(String(s.details.region ?? "—"))}</td>
                <td class="mono">{cellText(s.endpoint ?? "AWS")}</td>
                <td>{s.details.forcePathStyle === true ? "Yes" : "No"}</td>
                <td>
                  <StatusBadge status={ready?.status} {...(ready ? { label: `${ready.status}${ready.status === "True" ? "" : ` · ${ready.reason}`}` } : {})} />
                </td>
                <td>{s.lastCheck ? <Timestamp iso={s.lastCheck.time} /> : "—"}</td>
                <td>
                  {s.managedBy ? (
                    <span class="muted">Read-only: {visibleText(s.managedBy.reason)}</span>
                  ) : (
                    onEdit && (
                      <button type="button" class="secondary small" onClick={() => onEdit(s)} aria-label={`Edit ${name}`}>
                        Edit
                      </button>
                    )
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </ScrollBox>
  );
}
