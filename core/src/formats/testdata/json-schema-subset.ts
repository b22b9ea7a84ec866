/**
 * A validator for the JSON Schema subset test/support/ocsf-json-schema.ts emits — type, enum, pattern, maxLength,
 * properties, required, additionalProperties false, items and local $ref — so OCSF output is checked against the
 * official class definitions without a validator dependency. It returns every problem with its JSON path.
 */
type Schema = Record<string, unknown>;

export function validate(value: unknown, schema: Schema, defs: Record<string, Schema>, path = "$"): string[] {
  if (typeof schema.$ref === "string") return validate(value, defs[schema.$ref.replace("#/$defs/", "")] ?? {}, defs, path);
  const problems: string[] = [];
  const type = schema.type as string | undefined;
  if (type !== undefined && !hasType(value, type)) return [`${path}: expected ${type}, got ${JSON.stringify(value)?.slice(0, 60)}`];
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) problems.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (typeof value === "string") {
    if (typeof schema.maxLength === "number" && [...value].length > schema.maxLength) problems.push(`${path}: longer than ${schema.maxLength}`);
    if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test(value)) problems.push(`${path}: does not match ${schema.pattern}`);
  }
  if (Array.isArray(value) && schema.items !== undefined) value.forEach((v, i) => problems.push(...validate(v, schema.items as Schema, defs, `${path}[${i}]`)));
  if (type === "object") problems.push(...validateObject(value as Record<string, unknown>, schema, defs, path));
  return problems;
}

function validateObject(value: Record<string, unknown>, schema: Schema, defs: Record<string, Schema>, path: string): string[] {
  const problems: string[] = [];
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  for (const name of (schema.required ?? []) as string[]) if (!(name in value)) problems.push(`${path}: missing required ${name}`);
  for (const [name, child] of Object.entries(value)) {
    const sub = properties[name];
    if (sub !== undefined) problems.push(...validate(child, sub, defs, `${path}.${name}`));
    else if (schema.additionalProperties === false) problems.push(`${path}: ${name} is not an attribute here`);
  }
  return problems;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "object": return typeof value === "object" && value !== null && !Array.isArray(value);
    case "array": return Array.isArray(value);
    case "integer": return Number.isInteger(value);
    case "number": return typeof value === "number";
    default: return typeof value === type;
  }
}
