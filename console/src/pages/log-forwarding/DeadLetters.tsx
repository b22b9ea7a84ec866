/** A destination's dead letters, newest first, with the reason the destination gave; "Load more" pages back. */
import { ScrollBox } from "../../components/ScrollBox.tsx";
import { useEffect, useState } from "preact/hooks";
import { api, type ApiError } from "../../api/client.ts";
import type { DeadLetter } from "../../api/types.ts";
import { ProblemMessage } from "../../components/Problem.tsx";
import { visibleText } from "../../components/text.ts";
import { Timestamp } from "../../components/Timestamp.tsx";

interface State {
  items: DeadLetter[];
  cursor: string | null;
  loading: boolean;
  error?: ApiError;
}

export function DeadLetters({ namespace, name, total }: { namespace: string; name: string; total: number | undefined }) {
  const [state, setState] = useState<State>({ items: [], cursor: null, loading: true });
  const load = (cursor: string | null) => {
    setState((s) => ({ ...s, loading: true }));
    api.deadLetters(namespace, name, cursor).then(
      (page) => setState((s) => ({ items: cursor ? s.items.concat(page.deadLetters) : page.deadLetters, cursor: page.nextCursor, loading: false })),
      (error: ApiError) => setState((s) => ({ ...s, loading: false, error })),
    );
  };
  // Reload the first page when the count of dead letters moves (the detail page polls it).
  useEffect(() => load(null), [namespace, name, total]);

  return (
    <section class="card" aria-labelledby="dead-title">
      <h2 id="dead-title">Dead letters</h2>
      <p class="muted">Events the destination refused for good, with its reason. They are not retried; replay resends them after a fix.</p>
      {state.error && <ProblemMessage error={state.error} title="Dead letters could not be loaded" />}
      {state.items.length === 0 && !state.loading && !state.error && <p>None.</p>}
      {state.items.length > 0 && (
        <ScrollBox label="Dead letters (scrolls sideways)">
          <table class="plain">
            <caption class="visually-hidden">Dead letters</caption>
            <thead>
              <tr>
                <th scope="col" class="num">Seq</th>
                <th scope="col">Event id</th>
                <th scope="col">Reason</th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              {state.items.map((d) => (
                <tr key={d.id}>
                  <td class="num">{d.seq}</td>
                  <td class="mono">{d.eventId}</td>
                  <td class="wrap">{visibleText(d.reason)}</td>
                  <td>
                    <Timestamp iso={d.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      )}
      <div class="actions">
        {state.cursor && (
          <button type="button" class="secondary" onClick={() => load(state.cursor)} disabled={state.loading}>
            Load more dead letters
          </button>
        )}
        <span class="muted" role="status">
          {state.loading ? "Loading dead letters…" : state.items.length > 0 ? `${state.items.length} shown` : ""}
        </span>
      </div>
    </section>
  );
}
