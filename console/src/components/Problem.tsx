import type { ApiError } from "../api/client.ts";

/** Shows a failed request as the server explained it: the problem's detail and each offending field. */
export function ProblemMessage({ error, title }: { error: ApiError; title?: string }) {
  const p = error.problem;
  return (
    <div class="problem" role="alert">
      <p class="problem-title">
        {title ?? p.title ?? "Error"}
        {p.status ? ` (${p.status}${p.code ? ` ${p.code}` : ""})` : ""}
      </p>
      {p.detail && <p>{p.detail}</p>}
      {p.errors && p.errors.length > 0 && (
        <ul>
          {p.errors.map((e) => (
            <li key={e.path + e.message}>
              <code>{e.path}</code>: {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
