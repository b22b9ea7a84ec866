import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { chartDir, helmLint, helmTemplateRaw } from "../../support/helm.ts";

/** values.schema.json: enforced by Helm on install, upgrade, template and lint. */
const schema = JSON.parse(readFileSync(join(chartDir, "values.schema.json"), "utf8")) as JsonSchema;
const values = yaml.load(readFileSync(join(chartDir, "values.yaml"), "utf8")) as Record<string, unknown>;

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  definitions?: Record<string, JsonSchema>;
  $ref?: string;
  description?: string;
}

/** Kubernetes structures passed through unchanged; the API server validates them (see kube-schemas.test.ts). */
const passThrough = new Set([
  "#/properties/global",
  "#/definitions/affinity/properties/nodeAffinity",
  "#/definitions/affinity/properties/podAffinity",
  "#/definitions/affinity/properties/podAntiAffinity",
]);

function objectSchemas(node: JsonSchema, path: string, out: [string, JsonSchema][]): void {
  const types = Array.isArray(node.type) ? node.type : [node.type];
  if (types.includes("object")) out.push([path, node]);
  for (const [k, v] of Object.entries(node.properties ?? {})) objectSchemas(v, `${path}/properties/${k}`, out);
  for (const [k, v] of Object.entries(node.definitions ?? {})) objectSchemas(v, `${path}/definitions/${k}`, out);
  if (node.items !== undefined) objectSchemas(node.items, `${path}/items`, out);
  if (typeof node.additionalProperties === "object") objectSchemas(node.additionalProperties, `${path}/additionalProperties`, out);
  node.oneOf?.forEach((s, i) => objectSchemas(s, `${path}/oneOf/${i}`, out));
}

/** Paths of values.yaml's leaves; a `resources` block counts as one value. */
function leafPaths(value: unknown, prefix: string): string[] {
  if (!prefix.endsWith(".resources") && value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix === "" ? k : `${prefix}.${k}`));
  }
  return [prefix];
}

describe("values.schema.json", () => {
  it("rejects a misspelt key, naming it and where it is", () => {
    const r = helmTemplateRaw({ set: ["apiServer.replicas=3"] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("values don't meet the specifications of the schema");
    expect(r.stderr).toContain("at '/apiServer': additional properties 'replicas' not allowed");
  });

  it("rejects a misspelt key at the top level and deep inside", () => {
    expect(helmLint({ set: ["serviceMonitors.enabled=true"] }).stderr + helmLint({ set: ["serviceMonitors.enabled=true"] }).stdout).toContain(
      "additional properties 'serviceMonitors' not allowed",
    );
    expect(helmTemplateRaw({ set: ["operator.leaderElection.leaseDuration=30"] }).stderr).toContain(
      "at '/operator/leaderElection': additional properties 'leaseDuration' not allowed",
    );
  });

  it("rejects a wrong type, saying what it got and what it wants", () => {
    const r = helmTemplateRaw({ set: ["apiServer.replicaCount=two"] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("at '/apiServer/replicaCount': got string, want integer");
    const b = helmTemplateRaw({ set: ["crds.keep=maybe"] });
    expect(b.stderr).toContain("at '/crds/keep': got string, want boolean");
  });

  it("rejects values outside their enums and patterns", () => {
    expect(helmTemplateRaw({ set: ["operator.logLevel=verbose"] }).stderr).toContain("/operator/logLevel");
    expect(helmTemplateRaw({ set: ["apiServer.image.digest=latest"] }).stderr).toContain("/apiServer/image/digest");
  });

  it("sets additionalProperties on every object it defines", () => {
    const objects: [string, JsonSchema][] = [];
    objectSchemas(schema, "#", objects);
    expect(objects.length).toBeGreaterThan(30);
    const open = objects.filter(([, s]) => s.additionalProperties === undefined || s.additionalProperties === true).map(([path]) => path);
    expect(open.filter((p) => !passThrough.has(p))).toEqual([]);
  });

  it("describes every value in values.yaml, and the chart README lists each of them", () => {
    const readme = readFileSync(join(chartDir, "README.md"), "utf8");
    const missing = leafPaths(values, "").filter((p) => !readme.includes(`\`${p}\``));
    expect(missing).toEqual([]);
  });
});
