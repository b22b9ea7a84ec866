import type { z } from "zod";

/** Reasons the API server accepts on an `x-kubernetes-validations` rule (apiextensions.k8s.io/v1). */
export type CelReason = "FieldValueInvalid" | "FieldValueRequired" | "FieldValueForbidden" | "FieldValueDuplicate";

/**
 * One validation rule written twice, side by side: as CEL for the API server and as a TypeScript predicate so
 * the operator rejects exactly what `kubectl apply` would. Keeping both in one object is what stops them drifting;
 * the schema tests exercise the predicate, the kube-apiserver suite the CEL.
 */
export interface CelRule<T> {
  /** CEL with `self` bound to the value this rule is attached to. */
  rule: string;
  message: string;
  reason?: CelReason;
  /** Relative JSONPath (e.g. `.url`) of the field the error is reported on. */
  fieldPath?: string;
  holds: (value: T) => boolean;
}

/** A rule on updates only (uses `oldSelf`); it has no TypeScript twin because a lone spec has no old version. */
export interface CelTransitionRule {
  rule: string;
  message: string;
  reason?: CelReason;
  fieldPath?: string;
}

export interface CelValidation {
  rule: string;
  message: string;
  reason?: CelReason;
  fieldPath?: string;
}

const validationsKey = "x-kubernetes-validations";

/** Existing CEL rules recorded on a schema's metadata (the generator copies them into the CRD). */
export function celRulesOf(schema: z.ZodType): CelValidation[] {
  const meta = schema.meta() as Record<string, unknown> | undefined;
  const rules = meta?.[validationsKey];
  return Array.isArray(rules) ? (rules as CelValidation[]) : [];
}

function zodPath(fieldPath: string | undefined): string[] | undefined {
  return fieldPath === undefined ? undefined : fieldPath.split(".").filter((p) => p !== "");
}

/** Attaches rules to a schema: a zod refinement per rule plus the CEL text in the schema's metadata. */
export function withRules<S extends z.ZodType>(
  schema: S,
  rules: ReadonlyArray<CelRule<z.output<S>>>,
  transitionRules: readonly CelTransitionRule[] = [],
): S {
  let refined = schema;
  for (const r of rules) {
    const path = zodPath(r.fieldPath);
    refined = refined.refine(r.holds, path === undefined ? { message: r.message } : { message: r.message, path }) as S;
  }
  const cel: CelValidation[] = [...rules, ...transitionRules].map(({ rule, message, reason, fieldPath }) => ({
    rule,
    message,
    ...(reason === undefined ? {} : { reason }),
    ...(fieldPath === undefined ? {} : { fieldPath }),
  }));
  const meta = (schema.meta() ?? {}) as Record<string, unknown>;
  return refined.meta({ ...meta, [validationsKey]: [...celRulesOf(schema), ...cel] }) as S;
}
