import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { chartDir, renderChart, repoRoot } from "../../support/helm.ts";

/**
 * crds/ is the one source of truth (generated from core/src/crd/): the chart carries exact copies in files/crds/
 * (charts/sync-crds.sh) and renders them unchanged apart from its labels and the keep annotation.
 */
const sourceDir = join(repoRoot, "crds");
const copyDir = join(chartDir, "files/crds");
const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();

describe("CRDs in the chart", () => {
  it("are byte-for-byte copies of crds/*.yaml (run charts/sync-crds.sh after regenerating the CRDs)", () => {
    expect(yamlFiles(copyDir)).toEqual(yamlFiles(sourceDir));
    for (const file of yamlFiles(sourceDir)) {
      expect(readFileSync(join(copyDir, file), "utf8"), `charts/trailkeeper/files/crds/${file} is stale: run charts/sync-crds.sh`).toBe(
        readFileSync(join(sourceDir, file), "utf8"),
      );
    }
  });

  it("render to the same objects as crds/*.yaml, with the chart's labels and helm.sh/resource-policy: keep added", () => {
    const rendered = renderChart().filter((m) => m.kind === "CustomResourceDefinition");
    const sources = yamlFiles(sourceDir).map((f) => yaml.load(readFileSync(join(sourceDir, f), "utf8")) as Record<string, unknown> & { metadata: Record<string, unknown> });
    expect(rendered.map((m) => m.metadata.name).sort()).toEqual(sources.map((s) => s.metadata.name).sort());
    for (const source of sources) {
      const crd = rendered.find((m) => m.metadata.name === source.metadata.name)!;
      const { metadata, ...rest } = crd;
      const { metadata: sourceMetadata, ...sourceRest } = source;
      expect(rest).toEqual(sourceRest);
      const { labels: sourceLabels, annotations: sourceAnnotations, ...sourceMeta } = sourceMetadata as { labels?: object; annotations?: object };
      const { labels, annotations, ...meta } = metadata;
      expect(meta).toEqual(sourceMeta);
      expect(labels).toMatchObject({ ...sourceLabels, "app.kubernetes.io/managed-by": "Helm" });
      expect(annotations).toEqual({ ...sourceAnnotations, "helm.sh/resource-policy": "keep" });
    }
  });
});
