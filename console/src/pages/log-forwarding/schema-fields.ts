/**
 * Reading the CRD's zod schemas for the forms: a field's description (its hint) and an enum's options come from
 * the very schema the API server and the operator validate with, so the form cannot drift from the CRD.
 */
import type { z } from "zod";

interface Def {
  type?: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  entries?: Record<string, string>;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The schema itself and every wrapper's inner schema (optional, default, prefault, pipe), outermost first. */
function layers(schema: z.ZodType): z.ZodType[] {
  const out: z.ZodType[] = [schema];
  for (let d = defOf(schema), guard = 0; guard < 8; guard++) {
    const next = d.innerType ?? (d.type === "pipe" ? d.in : undefined);
    if (!next) break;
    out.push(next);
    d = defOf(next);
  }
  return out;
}

/** The schema at a dotted path below an object schema, or undefined when the path leaves the schema. */
export function schemaAt(schema: z.ZodType, path: string): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  for (const part of path.split(".")) {
    const obj: z.ZodType | undefined = current && layers(current).find((l) => defOf(l).shape !== undefined);
    current = obj ? defOf(obj).shape?.[part] : undefined;
    if (!current) return undefined;
  }
  return current;
}

/** The `.describe()` text of the field at `path`, wherever a wrapper put it. */
export function descriptionAt(schema: z.ZodType, path: string): string | undefined {
  const at = schemaAt(schema, path);
  return at && layers(at).map((l) => l.description).find((d) => d !== undefined);
}

/** The values of the enum at `path` (for a select), in the schema's order. */
export function enumOptionsAt(schema: z.ZodType, path: string): string[] {
  const at = schemaAt(schema, path);
  const e = at && layers(at).find((l) => defOf(l).entries !== undefined);
  return e ? Object.values(defOf(e).entries!) : [];
}
