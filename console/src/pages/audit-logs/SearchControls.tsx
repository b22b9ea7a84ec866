/** The search bar, the action-type (category) filter and the time range; every change becomes a new URL. */
import { useEffect, useState } from "preact/hooks";
import { categoryTable } from "../../../../core/src/events/categories.ts";
import type { SearchProblem } from "../../search/grammar.ts";
import { rangePresets, type AuditQuery, type RangeId } from "../../search/query-state.ts";

interface Props {
  query: AuditQuery;
  problems: SearchProblem[];
  onChange: (q: AuditQuery) => void;
}

/** datetime-local wants local "YYYY-MM-DDTHH:mm"; the URL keeps ISO instants. */
function toLocalInput(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
const fromLocalInput = (v: string) => (v ? new Date(v).toISOString() : undefined);

/** Escape closes the action-type list and returns focus to its toggle, as a menu would. */
function closeOnEscape(e: KeyboardEvent): void {
  const details = e.currentTarget as HTMLDetailsElement;
  if (e.key !== "Escape" || !details.open) return;
  details.open = false;
  details.querySelector("summary")?.focus();
}

export function SearchControls({ query, problems, onChange }: Props) {
  const [text, setText] = useState(query.text);
  useEffect(() => setText(query.text), [query.text]);

  const submit = (e: Event) => {
    e.preventDefault();
    onChange({ ...query, text });
  };
  const toggleCategory = (id: string, on: boolean) => {
    const categories = on ? [...query.categories, id] : query.categories.filter((c) => c !== id);
    onChange({ ...query, categories: categoryTable.map((c) => c.id as string).filter((c) => categories.includes(c)) });
  };
  const setRange = (range: RangeId) => {
    const next: AuditQuery = { text: query.text, categories: query.categories, range };
    if (range === "custom") next.from = query.from ?? new Date(Date.now() - 86_400_000).toISOString();
    onChange(next);
  };
  const setBound = (which: "from" | "to", v: string) => {
    const next: AuditQuery = { ...query };
    const iso = fromLocalInput(v);
    if (iso) next[which] = iso;
    else delete next[which];
    onChange(next);
  };

  return (
    <div class="controls">
      <form role="search" class="search" onSubmit={submit}>
        <label for="search" class="visually-hidden">
          Search audit logs
        </label>
        <input
          id="search"
          type="search"
          value={text}
          onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
          placeholder="action:auth.* actor:u-42 outcome:failure free text"
          spellcheck={false}
          autoComplete="off"
          aria-describedby={problems.length ? "search-problems search-help" : "search-help"}
          aria-invalid={problems.length > 0}
        />
        <button type="submit">Search</button>
      </form>
      <p id="search-help" class="hint">
        Qualifiers: <code>action:</code> <code>category:</code> <code>actor:</code> <code>resource:</code> <code>type:</code> <code>outcome:</code> <code>ip:</code>{" "}
        <code>after:</code> <code>before:</code>; quote values with spaces; other words are free text.
      </p>
      {problems.length > 0 && (
        <div id="search-problems" class="problem" role="alert">
          <p class="problem-title">This search cannot run as typed:</p>
          <ul>
            {problems.map((p) => (
              <li key={p.token + p.message}>
                <code>{p.token}</code>: {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <div class="filter-row">
        <details class="categories" onKeyDown={closeOnEscape}>
          <summary>Action type{query.categories.length ? ` (${query.categories.length})` : ": all"}</summary>
          <fieldset>
            <legend class="visually-hidden">Action types to show</legend>
            {categoryTable.map((c) => (
              <label key={c.id} class="check">
                <input type="checkbox" checked={query.categories.includes(c.id)} onChange={(e) => toggleCategory(c.id, (e.currentTarget as HTMLInputElement).checked)} />
                {c.label}
              </label>
            ))}
          </fieldset>
        </details>
        <label class="inline">
          Time range
          <select value={query.range} onChange={(e) => setRange((e.currentTarget as HTMLSelectElement).value as RangeId)}>
            {rangePresets.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
          </select>
        </label>
        {query.range === "custom" && (
          <>
            <label class="inline">
              From
              <input type="datetime-local" value={toLocalInput(query.from)} onChange={(e) => setBound("from", (e.currentTarget as HTMLInputElement).value)} />
            </label>
            <label class="inline">
              To
              <input type="datetime-local" value={toLocalInput(query.to)} onChange={(e) => setBound("to", (e.currentTarget as HTMLInputElement).value)} />
            </label>
          </>
        )}
      </div>
    </div>
  );
}
