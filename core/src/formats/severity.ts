import type { CategoryId } from "../events/categories.ts";
import type { Outcome } from "../events/model.ts";

/** Categories where a change or a failure matters more to a security team: they add 2 to the severity. */
const sensitiveCategories: ReadonlySet<CategoryId> = new Set(["auth", "permissions", "secrets", "api_keys", "audit"]);

const outcomeSeverity: Record<Outcome, number> = { success: 2, unknown: 4, failure: 5 };

/**
 * CEF and LEEF severity, 0 (lowest) to 10: from the outcome (success 2, unknown 4, failure 5), plus 2 in the
 * sensitive categories, so a failed login is 7 and a successful billing change 2. Nothing reaches 8+, which
 * SIEMs reserve for detections rather than audit records.
 */
export function severityOf(outcome: Outcome, category: CategoryId): number {
  return outcomeSeverity[outcome] + (sensitiveCategories.has(category) ? 2 : 0);
}
