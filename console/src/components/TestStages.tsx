/** The answer of a connection test: the verdict, then each stage with its time, detail and, when it failed, the remedy. */
import type { ConnectionTestResult } from "../api/types.ts";
import { visibleText } from "./text.ts";

const mark = { passed: "✓", failed: "✗", skipped: "–" } as const;

export function TestStages({ result }: { result: ConnectionTestResult }) {
  return (
    <div class={`test-result ${result.ok ? "ok" : "bad"}`}>
      <p class="verdict-line">
        <strong>{result.ok ? "Test passed" : "Test failed"}</strong> ({visibleText(result.reason)}, {result.durationMs} ms){result.target ? ` — ${visibleText(result.target)}` : ""}
      </p>
      {result.message && <p>{visibleText(result.message)}</p>}
      <table class="stages">
        <caption class="visually-hidden">Test stages</caption>
        <thead>
          <tr>
            <th scope="col">Stage</th>
            <th scope="col">Status</th>
            <th scope="col">Time</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {result.stages.map((s) => (
            <tr key={s.name} class={`stage-${s.status}`}>
              <th scope="row">{s.name}</th>
              <td>
                <span aria-hidden="true">{mark[s.status]} </span>
                {s.status}
              </td>
              <td>{s.status === "skipped" ? "" : `${s.durationMs} ms`}</td>
              <td>
                {visibleText(s.detail)}
                {s.remedy && (
                  <p class="remedy">
                    <strong>Remedy:</strong> {visibleText(s.remedy)}
                  </p>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
