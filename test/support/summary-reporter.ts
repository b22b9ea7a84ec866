import type { Reporter, TestModule } from "vitest/node";

/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`, that CI tooling reads. A file whose
 * collection or hooks failed (vitest then marks its tests skipped) counts as one failure, and so does every
 * unhandled error, so the line never reads "0 failed" for a run that failed.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const counts = { passed: 0, failed: unhandledErrors.length, skipped: 0 };
    for (const m of modules) {
      let failedTests = 0;
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === "passed") counts.passed += 1;
        else if (state === "failed") failedTests += 1;
        else counts.skipped += 1;
      }
      counts.failed += failedTests;
      if (m.state() === "failed" && failedTests === 0) counts.failed += 1;
    }
    process.stdout.write(`\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
