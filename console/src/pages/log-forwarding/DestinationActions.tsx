/**
 * What a config:write session may do to a destination that GitOps does not manage: edit it, enable or disable it,
 * and replay from a time. Without Kubernetes access on the server, the same changes are given as kubectl commands.
 */
import { useState } from "preact/hooks";
import { api, type ApiError } from "../../api/client.ts";
import type { ConfigCapabilities, MirroredResource } from "../../api/types.ts";
import { ProblemMessage } from "../../components/Problem.tsx";
import { linkClick } from "../../router.ts";
import { destinationHref } from "./ListPage.tsx";

type Outcome = { ok: string } | { error: ApiError; title: string } | undefined;

/** A datetime-local value (the viewer's zone) as an RFC 3339 instant, or undefined when it is not one. */
export function localToRfc3339(value: string): string | undefined {
  const t = new Date(value);
  return value === "" || Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

export function DestinationActions({ d, capabilities, onChanged }: { d: MirroredResource; capabilities: ConfigCapabilities; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>();
  const [from, setFrom] = useState("");
  const [fromError, setFromError] = useState<string>();
  const kube = capabilities.save === "kubernetes";

  const run = async (title: string, action: () => Promise<unknown>, ok: string) => {
    setBusy(true);
    setOutcome(undefined);
    try {
      await action();
      setOutcome({ ok });
      onChanged();
    } catch (e) {
      setOutcome({ error: e as ApiError, title });
    } finally {
      setBusy(false);
    }
  };
  const toggle = () => run(`Could not ${d.enabled ? "disable" : "enable"} the destination`, () => api.setDestinationEnabled(d.namespace, d.name, !d.enabled), d.enabled ? "Disabled." : "Enabled.");
  const replay = (e: Event) => {
    e.preventDefault();
    const at = localToRfc3339(from);
    setFromError(at ? undefined : "enter the date and time to replay from");
    if (at) void run("Could not start the replay", () => api.replayDestination(d.namespace, d.name, at), `Replay from ${at} requested: the operator resends every event received since then.`);
  };

  return (
    <section class="card" aria-labelledby="actions-title">
      <h2 id="actions-title">Actions</h2>
      <div class="actions">
        <a class="button secondary" href={`${destinationHref(d)}/edit`} onClick={linkClick}>
          Edit
        </a>
        {kube && (
          <button type="button" class="secondary" onClick={toggle} disabled={busy}>
            {d.enabled ? "Disable" : "Enable"}
          </button>
        )}
      </div>
      {kube ? (
        <form class="replay" onSubmit={replay} noValidate>
          <label for="replay-from">Replay from</label>
          <input id="replay-from" type="datetime-local" step={1} value={from} onInput={(e) => setFrom(e.currentTarget.value)} aria-describedby={`replay-hint${fromError ? " replay-error" : ""}`} aria-invalid={fromError ? true : undefined} />
          <button type="submit" class="secondary" disabled={busy}>
            Replay
          </button>
          <p class="hint" id="replay-hint">
            Resends every event received at or after this time (your time zone), duplicates included.
          </p>
          {fromError && (
            <p class="field-error" id="replay-error">
              {fromError}
            </p>
          )}
        </form>
      ) : (
        <ManualActions d={d} />
      )}
      <div role="status">{outcome && "ok" in outcome && <p class="verdict ok">{outcome.ok}</p>}</div>
      {outcome && "error" in outcome && <ProblemMessage error={outcome.error} title={outcome.title} />}
    </section>
  );
}

function ManualActions({ d }: { d: MirroredResource }) {
  const target = `-n ${d.namespace} lfd/${d.name}`;
  return (
    <>
      <p class="muted">This server does not write to Kubernetes; enable, disable or replay with kubectl (or in your configuration repository):</p>
      <pre class="command" tabIndex={0} aria-label="kubectl commands">
        {`kubectl patch ${target} --type merge -p '{"spec":{"enabled":${!d.enabled}}}'\nkubectl annotate ${target} --overwrite trailkeeper.dev/replay-from=2026-01-01T00:00:00Z`}
      </pre>
    </>
  );
}
