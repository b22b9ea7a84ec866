import { z } from "zod";

/** An OpenAPI v3 schema node as it appears in a CRD (the subset we produce). */
export type OpenApiSchema = { [key: string]: unknown };

const maxSafe = Number.MAX_SAFE_INTEGER;

/**
 * Turns a zod schema into the structural OpenAPI v3 schema the API server requires: inline (no $ref), a `type`
 * on every node, no `additionalProperties: false`, no union types. zod validates the same tree in process, so the
 * CRD and the TypeScript types come from one definition.
 */
export function toStructuralSchema(schema: z.ZodType): OpenApiSchema {
  const json = z.toJSONSchema(schema, {
    target: "openapi-3.0",
    io: "input", // defaulted fields are optional in what users write
    reused: "inline",
    cycles: "throw",
    unrepresentable: "throw",
  }) as OpenApiSchema;
  return normalise(json, "");
}

function assertStructural(node: OpenApiSchema, path: string): void {
  for (const banned of ["anyOf", "oneOf", "allOf", "not", "$ref", "nullable"]) {
    if (banned in node) throw new Error(`${path || "<root>"}: '${banned}' is not allowed in a structural CRD schema`);
  }
  if (Array.isArray(node.type)) throw new Error(`${path}: union types are not structural`);
}

/** One node's own keywords, rewritten for Kubernetes; children are handled by `normalise`. */
function ownKeywords(node: OpenApiSchema): OpenApiSchema {
  const out: OpenApiSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$schema" || key === "$id") continue;
    if (key === "additionalProperties" && value === false) continue; // the API server prunes unknown fields instead
    if (key === "const") out.enum = [value];
    else out[key] = value;
  }
  // zod's date-time regex duplicates the format, and Kubernetes checks `format: date-time` itself.
  if (out.format === "date-time") delete out.pattern;
  if (out.type === "integer") {
    if (out.maximum === maxSafe) delete out.maximum;
    if (out.minimum === -maxSafe) delete out.minimum;
    out.format ??= "int64";
  }
  return out;
}

function normalise(node: OpenApiSchema, path: string): OpenApiSchema {
  assertStructural(node, path);
  const out = ownKeywords(node);
  if (out.properties !== undefined) {
    const props = out.properties as Record<string, OpenApiSchema>;
    out.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, normalise(v, `${path}.${k}`)]));
    if (Array.isArray(out.required) && out.required.length === 0) delete out.required;
  }
  if (out.items !== undefined) out.items = normalise(out.items as OpenApiSchema, `${path}[]`);
  if (typeof out.additionalProperties === "object" && out.additionalProperties !== null) {
    out.additionalProperties = normalise(out.additionalProperties as OpenApiSchema, `${path}{}`);
  }
  if (out.type === undefined) throw new Error(`${path || "<root>"}: every node needs a type`);
  return orderKeys(out);
}

/** Stable, readable key order in the generated YAML: description first, then type, then the rest. */
function orderKeys(node: OpenApiSchema): OpenApiSchema {
  const first = ["description", "type", "format", "default", "enum"];
  const ordered: OpenApiSchema = {};
  for (const k of first) if (k in node) ordered[k] = node[k];
  for (const [k, v] of Object.entries(node)) if (!(k in ordered)) ordered[k] = v;
  return ordered;
}
