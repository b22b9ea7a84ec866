/**
 * Generates a JSON Schema for chosen OCSF event classes from a checkout of github.com/ocsf/ocsf-schema at a
 * release tag, the way the OCSF server assembles a class: the class, its parents (`extends`), `$include`d
 * includes and profiles, each attribute's type and enum from dictionary.json, objects resolved recursively.
 * Attributes outside the class are refused (additionalProperties false), except under `unmapped` (type `object`).
 *
 *   git clone --branch 1.3.0 https://github.com/ocsf/ocsf-schema /tmp/ocsf-1.3.0
 *   node test/support/ocsf-json-schema.ts /tmp/ocsf-1.3.0 > test/fixtures/ocsf/ocsf-1.3.0.schema.json
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

type Json = Record<string, unknown>;
interface AttributeDef {
  type?: string;
  is_array?: boolean;
  requirement?: string;
  enum?: Record<string, unknown>;
}
interface Definition {
  name: string;
  extends?: string;
  uid?: number;
  category?: string;
  attributes?: Record<string, unknown>;
}

/** The classes Trailkeeper's OCSF mapping uses (core/src/formats/ocsf.ts). */
const classNames = ["authentication", "account_change", "group_management", "user_access", "entity_management", "api_activity"];

const readJson = (path: string): Json => JSON.parse(readFileSync(path, "utf8")) as Json;

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? jsonFiles(p) : f.endsWith(".json") ? [p] : [];
  });
}

function byName(root: string, dir: string): Map<string, Definition> {
  return new Map(jsonFiles(join(root, dir)).map((p) => [(readJson(p) as unknown as Definition).name, readJson(p) as unknown as Definition]));
}

export function generate(root: string): Json {
  const dictionary = readJson(join(root, "dictionary.json")) as { attributes: Record<string, AttributeDef>; types: { attributes: Record<string, Json> } };
  const categories = (readJson(join(root, "categories.json")) as { attributes: Record<string, { uid: number }> }).attributes;
  const events = byName(root, "events");
  const objects = byName(root, "objects");
  const types = dictionary.types.attributes;
  const defs: Record<string, Json> = {};

  /** `$include`d files first, then the definition's own entries, each attribute merged key by key. */
  function ownAttributes(attributes: Record<string, unknown> | undefined): Record<string, AttributeDef> {
    const out: Record<string, AttributeDef> = {};
    const includes = (attributes?.["$include"] as string[] | undefined) ?? [];
    for (const inc of includes) {
      const included = ownAttributes((readJson(join(root, inc)) as unknown as Definition).attributes);
      // A profile's attributes apply only to events that declare the profile: none of ours do, so none is required.
      if (inc.startsWith("profiles/")) for (const attr of Object.values(included)) attr.requirement = "optional";
      mergeInto(out, included);
    }
    for (const [name, value] of Object.entries(attributes ?? {})) if (name !== "$include") mergeInto(out, { [name]: value as AttributeDef });
    return out;
  }
  function mergeInto(target: Record<string, AttributeDef>, source: Record<string, AttributeDef>) {
    for (const [name, value] of Object.entries(source)) target[name] = { ...target[name], ...value, ...(target[name]?.enum && value.enum ? { enum: { ...target[name].enum, ...value.enum } } : {}) };
  }
  function allAttributes(def: Definition, pool: Map<string, Definition>): Record<string, AttributeDef> {
    const out = def.extends === undefined ? {} : allAttributes(pool.get(def.extends) ?? fail(`unknown parent ${def.extends}`), pool);
    mergeInto(out, ownAttributes(def.attributes));
    return out;
  }

  function primitive(type: string): Json {
    const t = types[type]!;
    const base = (t.type as string | undefined) ?? type;
    const schema: Json = base === type ? baseSchema(type) : primitive(base);
    if (typeof t.regex === "string") schema.pattern = t.regex;
    if (typeof t.max_len === "number") schema.maxLength = t.max_len;
    return schema;
  }
  function baseSchema(type: string): Json {
    switch (type) {
      case "string_t": return { type: "string" };
      case "integer_t": case "long_t": return { type: "integer" };
      case "float_t": return { type: "number" };
      case "boolean_t": return { type: "boolean" };
      case "json_t": return {};
      default: return fail(`unknown base type ${type}`);
    }
  }
  function objectRef(name: string): Json {
    if (name === "object") return { type: "object" }; // the generic object: anything (unmapped)
    if (defs[name] === undefined) {
      defs[name] = {}; // placeholder: objects refer to each other in cycles
      defs[name] = closedObject(allAttributes(objects.get(name) ?? fail(`unknown object ${name}`), objects));
    }
    return { $ref: `#/$defs/${name}` };
  }
  function attributeSchema(name: string, local: AttributeDef): Json {
    const def = { ...dictionary.attributes[name], ...local } as AttributeDef;
    if (def.type === undefined) return fail(`attribute ${name} has no type`);
    let schema = types[def.type] !== undefined ? primitive(def.type) : objectRef(def.type);
    const enumKeys = Object.keys({ ...dictionary.attributes[name]?.enum, ...local.enum });
    if (enumKeys.length > 0 && schema.type === "integer") schema = { ...schema, enum: enumKeys.map(Number) };
    return def.is_array === true ? { type: "array", items: schema } : schema;
  }
  function closedObject(attributes: Record<string, AttributeDef>): Json {
    const properties = Object.fromEntries(Object.entries(attributes).map(([n, a]) => [n, attributeSchema(n, a)]));
    const required = Object.entries(attributes).filter(([, a]) => a.requirement === "required").map(([n]) => n).sort();
    return { type: "object", properties, required, additionalProperties: false };
  }
  function eventClass(name: string): Json {
    const def = events.get(name) ?? fail(`unknown class ${name}`);
    let categoryName: string | undefined;
    for (let d: Definition | undefined = def; d !== undefined && categoryName === undefined; d = d.extends === undefined ? undefined : events.get(d.extends)) categoryName = d.category;
    const categoryUid = categories[categoryName ?? fail(`no category for ${name}`)]!.uid;
    const classUid = categoryUid * 1000 + def.uid!;
    const schema = closedObject(allAttributes(def, events));
    const props = schema.properties as Record<string, Json>;
    const activities = (props.activity_id!.enum as number[]) ?? [];
    props.class_uid = { type: "integer", enum: [classUid] };
    props.category_uid = { type: "integer", enum: [categoryUid] };
    props.type_uid = { type: "integer", enum: activities.map((a) => classUid * 100 + a) };
    return { title: name, ...schema };
  }

  const classes = Object.fromEntries(classNames.map((n) => eventClass(n)).map((s) => [String(((s.properties as Record<string, Json>).class_uid!.enum as number[])[0]), s]));
  const version = (readJson(join(root, "version.json")) as { version: string }).version;
  return {
    $comment: `Generated by test/support/ocsf-json-schema.ts from github.com/ocsf/ocsf-schema at tag ${version}; do not edit.`,
    ocsfVersion: version,
    classes,
    $defs: defs,
  };
}

function fail(message: string): never {
  throw new Error(message);
}

if (import.meta.main) {
  const root = process.argv[2] ?? fail("usage: node test/support/ocsf-json-schema.ts <ocsf-schema checkout>");
  process.stdout.write(`${JSON.stringify(generate(root), null, 1)}\n`);
}
