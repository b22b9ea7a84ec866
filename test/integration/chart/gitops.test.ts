import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { afterAll, describe, expect, it } from "vitest";
import { helmTemplateRaw, repoRoot } from "../../support/helm.ts";
import { luaFeaturesBeyond51, runHealthScript } from "../../support/lua.ts";

/** docs/gitops/: the Argo CD health checks (run with their test cases) and the examples' consistency. */
const gitops = join(repoRoot, "docs/gitops");
const customizations = join(gitops, "argocd/resource_customizations/trailkeeper.dev");
const kinds = ["LogForwardingDestination", "RecordingStorage"];
const readYaml = (path: string) => yaml.load(readFileSync(path, "utf8"));
const readAllYaml = (path: string) => yaml.loadAll(readFileSync(path, "utf8")) as Record<string, unknown>[];

interface HealthTests {
  tests: { healthStatus: { status: string; message: string }; inputPath: string }[];
}

describe.each(kinds)("Argo CD health check for %s", (kind) => {
  const dir = join(customizations, kind);
  const script = readFileSync(join(dir, "health.lua"), "utf8");
  const { tests } = readYaml(join(dir, "health_test.yaml")) as HealthTests;

  it("has a test case for every file in testdata/ and every status", () => {
    expect(tests.map((t) => t.inputPath).sort()).toEqual(readdirSync(join(dir, "testdata")).map((f) => `testdata/${f}`).sort());
    expect(new Set(tests.map((t) => t.healthStatus.status))).toEqual(new Set(kind === "LogForwardingDestination" ? ["Healthy", "Progressing", "Degraded", "Suspended"] : ["Healthy", "Progressing", "Degraded"]));
  });

  it.each(tests.map((t) => [t.inputPath, t] as const))("%s", (_path, t) => {
    const object = readYaml(join(dir, t.inputPath)) as { kind: string };
    expect(object.kind).toBe(kind);
    expect(runHealthScript(script, object)).toEqual(t.healthStatus);
  });

  it("uses only Lua 5.1, which Argo CD's gopher-lua runs", () => {
    expect(luaFeaturesBeyond51(script)).toEqual([]);
  });
});

describe("Argo CD settings (argocd-cm.yaml)", () => {
  const cm = readYaml(join(gitops, "argocd/argocd-cm.yaml")) as { data: Record<string, string> };

  it("embeds exactly the tested health scripts", () => {
    for (const kind of kinds) {
      expect(cm.data[`resource.customizations.health.trailkeeper.dev_${kind}`]).toBe(readFileSync(join(customizations, kind, "health.lua"), "utf8"));
    }
  });

  it("keeps status.delivery updates from refreshing applications", () => {
    expect(cm.data["resource.ignoreResourceUpdatesEnabled"]).toBe("true");
    const lfd = yaml.load(cm.data["resource.customizations.ignoreResourceUpdates.trailkeeper.dev_LogForwardingDestination"] ?? "") as { jsonPointers: string[] };
    expect(lfd.jsonPointers).toContain("/status/delivery");
    for (const kind of kinds) {
      const rule = yaml.load(cm.data[`resource.customizations.ignoreResourceUpdates.trailkeeper.dev_${kind}`] ?? "") as { jsonPointers: string[] };
      for (const pointer of rule.jsonPointers) expect(pointer).toMatch(/^\/status\//);
    }
  });
});

describe("examples", () => {
  const dir = mkdtempSync(join(tmpdir(), "trailkeeper-gitops-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const renders = (name: string, values: unknown) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, yaml.dump(values));
    return helmTemplateRaw({ valuesFiles: [file] });
  };

  it("Argo CD: the chart Application's values pass the chart's schema; CRs sync after it and skip the dry run", () => {
    const apps = readAllYaml(join(gitops, "argocd/application.yaml")) as { metadata: { annotations?: Record<string, string> }; spec: { source: { path: string; helm?: { valuesObject: unknown } }; syncPolicy: { syncOptions: string[] } } }[];
    const chartApp = apps.find((a) => a.spec.source.path === "charts/trailkeeper")!;
    const r = renders("argocd", chartApp.spec.source.helm?.valuesObject);
    expect(r.stderr).toBe("");
    expect(chartApp.spec.syncPolicy.syncOptions).toContain("ServerSideApply=true");
    const crApp = apps.find((a) => a !== chartApp)!;
    expect(Number(crApp.metadata.annotations?.["argocd.argoproj.io/sync-wave"])).toBeGreaterThan(Number(chartApp.metadata.annotations?.["argocd.argoproj.io/sync-wave"]));
    expect(crApp.spec.syncPolicy.syncOptions).toContain("SkipDryRunOnMissingResource=true");
  });

  it("Flux: the HelmRelease points at the chart and its values pass the chart's schema", () => {
    const docs = readAllYaml(join(gitops, "flux/helmrelease.yaml")) as { kind: string; spec: { chart?: { spec: { chart: string } }; values?: unknown } }[];
    const release = docs.find((d) => d.kind === "HelmRelease")!;
    expect(release.spec.chart?.spec.chart).toBe("./charts/trailkeeper");
    expect(renders("flux", release.spec.values).stderr).toBe("");
  });
});
