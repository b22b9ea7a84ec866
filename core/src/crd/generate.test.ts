import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { crdsDirectory, crdSources, renderAllCrds } from "./generate.ts";
import type { OpenApiSchema } from "./openapi.ts";

type Crd = {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    versions: { name: string; served: boolean; storage: boolean; subresources: { status: object }; additionalPrinterColumns: { jsonPath: string }[]; schema: { openAPIV3Schema: OpenApiSchema } }[];
  };
};

const crds = renderAllCrds().map(({ file, text }) => ({ file, text, crd: yaml.load(text) as Crd }));

/** Visits every schema node with its path, e.g. `.spec.webhook.url` or `.spec.filter.actions[]`. */
function walk(node: OpenApiSchema, path: string, visit: (node: OpenApiSchema, path: string) => void): void {
  visit(node, path);
  for (const [k, child] of Object.entries((node.properties ?? {}) as Record<string, OpenApiSchema>)) walk(child, `${path}.${k}`, visit);
  if (node.items !== undefined) walk(node.items as OpenApiSchema, `${path}[]`, visit);
}

function nodes(crd: Crd): [OpenApiSchema, string][] {
  const out: [OpenApiSchema, string][] = [];
  walk(crd.spec.versions[0]!.schema.openAPIV3Schema, "", (n, p) => out.push([n, p]));
  return out;
}

describe("generated CRDs", () => {
  it.each(crds)("$file is committed and current (run `node core/src/crd/generate.ts`)", ({ file, text }) => {
    expect(readFileSync(join(crdsDirectory, file), "utf8")).toBe(text);
  });

  it.each(crds)("$file is an apiextensions.k8s.io/v1 CRD with the expected names", ({ crd }) => {
    expect(crd.apiVersion).toBe("apiextensions.k8s.io/v1");
    expect(crd.kind).toBe("CustomResourceDefinition");
    expect(crd.metadata.name).toBe(`${crd.spec.names.plural}.${crd.spec.group}`);
    expect(crd.spec.group).toBe("trailkeeper.dev");
    expect(crd.spec.scope).toBe("Namespaced");
    expect(crd.spec.names.categories).toContain("trailkeeper");
    expect(crd.spec.versions).toHaveLength(1);
    const v = crd.spec.versions[0]!;
    expect(v).toMatchObject({ name: "v1alpha1", served: true, storage: true, subresources: { status: {} } });
  });

  it("uses the agreed short names", () => {
    expect(crds.map((c) => c.crd.spec.names.shortNames)).toEqual([["lfd"], ["recstore"]]);
  });

  it.each(crds)("$file has a structural schema: a type everywhere, items on arrays, no unions or refs", ({ crd }) => {
    for (const [n, path] of nodes(crd)) {
      expect(n.type, path).toBeTypeOf("string");
      for (const banned of ["$ref", "anyOf", "oneOf", "allOf", "not", "nullable", "$schema", "const"]) expect(n, `${path} has ${banned}`).not.toHaveProperty(banned);
      expect(n.additionalProperties, path).not.toBe(false);
      if (n.type === "array") {
        expect(n.items, path).toBeDefined();
        expect(n.maxItems, `${path} needs maxItems for CEL cost estimation`).toBeTypeOf("number");
      }
    }
  });

  it.each(crds)("$file bounds every spec string (CEL cost) and keeps patterns RE2-compatible", ({ crd }) => {
    for (const [n, path] of nodes(crd)) {
      if (n.type !== "string") continue;
      if (path.startsWith(".spec")) expect(n.maxLength ?? n.enum, `${path} needs maxLength or enum`).toBeDefined();
      if (typeof n.pattern === "string") {
        expect(n.pattern, path).not.toMatch(/\(\?[=!<]|\\[1-9]/); // no lookaround or backreference in Go's regexp
        expect(() => new RegExp(n.pattern as string), path).not.toThrow();
      }
    }
  });

  it.each(crds)("$file: required fields exist and list-map keys are required", ({ crd }) => {
    for (const [n, path] of nodes(crd)) {
      const props = Object.keys((n.properties ?? {}) as object);
      for (const r of (n.required ?? []) as string[]) expect(props, `${path}.${r}`).toContain(r);
      if (n["x-kubernetes-list-type"] === "map") {
        const item = n.items as OpenApiSchema;
        for (const k of n["x-kubernetes-list-map-keys"] as string[]) expect(item.required as string[], `${path} map key ${k}`).toContain(k);
      }
    }
  });

  it.each(crds)("$file: every CEL rule has a message and refers only to fields that exist", ({ crd }) => {
    let count = 0;
    for (const [n, path] of nodes(crd)) {
      const rules = (n["x-kubernetes-validations"] ?? []) as { rule: string; message: string; fieldPath?: string }[];
      const props = Object.keys((n.properties ?? {}) as object);
      for (const r of rules) {
        count++;
        expect(r.message.length, `${path}: ${r.rule}`).toBeGreaterThan(10);
        for (const m of r.rule.matchAll(/\b(?:self|oldSelf)\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
          if (["startsWith"].includes(m[1]!)) continue;
          expect(props, `${path}: ${r.rule}`).toContain(m[1]);
        }
        if (r.fieldPath !== undefined) expect(props, `${path} fieldPath ${r.fieldPath}`).toContain(r.fieldPath.slice(1));
      }
    }
    expect(count).toBeGreaterThan(3);
  });

  it.each(crds)("$file: defaults have the type of their field", ({ crd }) => {
    const typeOf = (v: unknown) => (Number.isInteger(v) ? "integer" : Array.isArray(v) ? "array" : typeof v === "object" ? "object" : typeof v);
    for (const [n, path] of nodes(crd)) {
      if (!("default" in n)) continue;
      expect(typeOf(n.default), path).toBe(n.type);
      if (Array.isArray(n.enum)) expect(n.enum, path).toContain(n.default);
    }
  });

  it.each(crds)("$file: printer columns point at fields in the schema", ({ crd }) => {
    const paths = new Set(nodes(crd).map(([, p]) => p));
    for (const c of crd.spec.versions[0]!.additionalPrinterColumns) {
      if (c.jsonPath.startsWith(".metadata")) continue;
      const field = c.jsonPath.replace(/\[\?\(@\.type=="(Ready|Delivering)"\)\]/, "[]");
      expect(paths, c.jsonPath).toContain(field);
    }
  });

  it("has the LogForwardingDestination columns of issue #12, and the reasons and messages in -o wide", () => {
    const lfd = crdSources.find((s) => s.names.kind === "LogForwardingDestination")!;
    expect(lfd.columns.filter((c) => c.priority === undefined).map((c) => c.name)).toEqual(["Type", "Format", "Enabled", "Ready", "Delivered", "Failed", "Dead-Lettered", "Lag", "Last Delivery", "Age"]);
    expect(lfd.columns.filter((c) => c.priority === 1).map((c) => c.name)).toEqual(["Reason", "Message", "Delivering", "Delivery Reason", "Last Error"]);
  });
});
