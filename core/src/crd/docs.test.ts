import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { crdsDirectory, crdSources } from "./generate.ts";
import { toStructuralSchema, type OpenApiSchema } from "./openapi.ts";

const docs = readFileSync(join(crdsDirectory, "../docs/crds.md"), "utf8");

/**
 * Documented paths of a schema: leaves only; the `{name, key}` of Secret references and the fields of `tls` blocks
 * are described once as shared conventions, and condition fields are metav1.Condition's.
 */
function documentedPaths(node: OpenApiSchema, path = ""): string[] {
  const props = Object.entries((node.properties ?? {}) as Record<string, OpenApiSchema>);
  const isKeyRef = props.map(([k]) => k).join() === "name,key";
  if (props.length === 0 || isKeyRef || path === "conditions") return [path];
  return props.flatMap(([k, child]) => documentedPaths(child, path === "" ? k : `${path}.${k}`)).map((p) => p.replace(/^[A-Za-z]+\.tls\./, "tls."));
}

describe("docs/crds.md", () => {
  it.each(crdSources.map((s) => [s.names.kind, s] as const))("describes every %s spec and status field", (_kind, source) => {
    const paths = [...documentedPaths(toStructuralSchema(source.spec)), ...documentedPaths(toStructuralSchema(source.status))];
    const missing = [...new Set(paths)].filter((p) => !docs.includes(`\`${p}\``));
    expect(missing).toEqual([]);
  });
});
