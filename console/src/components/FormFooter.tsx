/** The end of a configuration form: Test and Save, then what they answered (stages, problem, manifest). */
import type { ApiError } from "../api/client.ts";
import type { ConnectionTestResult } from "../api/types.ts";
import { ManifestView } from "./ManifestView.tsx";
import { ProblemMessage } from "./Problem.tsx";
import { TestStages } from "./TestStages.tsx";

export interface Attempt {
  testing?: boolean;
  saving?: boolean;
  test?: ConnectionTestResult;
  saved?: string;
  error?: { error: ApiError; title: string };
  manifest?: { yaml: string; hasSecret: boolean };
}

export interface FooterProps {
  attempt: Attempt;
  testLabel: string;
  onTest?: (() => void) | undefined;
  /** Save's label, or undefined when the session may not save. */
  saveLabel?: string | undefined;
  fileName: string;
}

export function FormFooter({ attempt, testLabel, onTest, saveLabel, fileName }: FooterProps) {
  const busy = Boolean(attempt.testing || attempt.saving);
  return (
    <>
      <div class="actions">
        {onTest && (
          <button type="button" class="secondary" onClick={onTest} disabled={busy}>
            {attempt.testing ? "Testing…" : testLabel}
          </button>
        )}
        {saveLabel && (
          <button type="submit" disabled={busy}>
            {attempt.saving ? "Saving…" : saveLabel}
          </button>
        )}
      </div>
      <div role="status" aria-live="polite">
        {attempt.testing && <p class="loading">Testing the connection (at most 15 seconds)…</p>}
        {attempt.test && <TestStages result={attempt.test} />}
        {attempt.saved && <p class="verdict ok">{attempt.saved}</p>}
      </div>
      {attempt.error && <ProblemMessage error={attempt.error.error} title={attempt.error.title} />}
      {attempt.manifest && <ManifestView yaml={attempt.manifest.yaml} hasSecret={attempt.manifest.hasSecret} fileName={fileName} />}
    </>
  );
}

export function GeneralProblems({ problems }: { problems: string[] }) {
  if (problems.length === 0) return null;
  return (
    <div class="problem" role="alert">
      <ul>
        {problems.map((g) => (
          <li key={g}>{g}</li>
        ))}
      </ul>
    </div>
  );
}
