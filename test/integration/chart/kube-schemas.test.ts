import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allOnValues, kubectlBinary, renderChart, type KubeManifest } from "../../support/helm.ts";
import { startKubeApiServer, type KubeApiServer } from "../../support/kube.ts";

/**
 * Every rendered object is validated against the schema of its kind by a real kube-apiserver (v1.37, the harness in
 * test/kube-apiserver): `kubectl create --dry-run=server --validate=strict` runs decoding with unknown and duplicate
 * fields rejected, defaulting, validation and admission, and stores nothing. The ServiceMonitor CRD is not in the
 * apiserver; ServiceMonitors are checked against the Prometheus Operator's schema from @kubernetes-models.
 */
let server: KubeApiServer;
const releaseNamespace = "trailkeeper-system";

function kubectl(args: string[], input?: string) {
  const r = spawnSync(kubectlBinary(), ["--kubeconfig", server.kubeconfigPath, ...args], { encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function dryRun(manifests: KubeManifest[]) {
  return kubectl(["create", "--dry-run=server", "--validate=strict", "-o", "name", "-f", "-"], manifests.map((m) => `---\n${yaml.dump(m)}`).join(""));
}

beforeAll(async () => {
  server = await startKubeApiServer({ applyCrds: false });
  for (const ns of [releaseNamespace, "tenants"]) expect(kubectl(["create", "namespace", ns]).status).toBe(0);
}, 900_000);

afterAll(async () => {
  await server?.stop();
});

const cases = [
  { name: "default values", valuesFiles: [] as string[] },
  { name: "every option on", valuesFiles: [allOnValues] },
];

describe.each(cases)("rendered chart with $name", ({ valuesFiles }) => {
  const manifests = renderChart({ valuesFiles, namespace: releaseNamespace });
  const builtIn = manifests.filter((m) => m.kind !== "ServiceMonitor");

  it("is accepted by kube-apiserver with strict field validation", () => {
    const r = dryRun(builtIn);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(builtIn.length);
  });
});

it("accepts the ServiceMonitors by the Prometheus Operator's schema", () => {
  const monitors = renderChart({ valuesFiles: [allOnValues], namespace: releaseNamespace }).filter((m) => m.kind === "ServiceMonitor");
  expect(monitors).toHaveLength(2);
  for (const m of monitors) {
    const { apiVersion, kind, ...data } = m;
    expect({ apiVersion, kind }).toEqual({ apiVersion: ServiceMonitor.apiVersion, kind: ServiceMonitor.kind });
    expect(() => new ServiceMonitor(data as ConstructorParameters<typeof ServiceMonitor>[0]).validate()).not.toThrow();
    expect(undeclaredFields(m)).toEqual([]);
  }
});

describe("the validation itself", () => {
  it("rejects a misspelt field (the check is strict)", () => {
    const [deployment] = renderChart({ namespace: releaseNamespace }).filter((m) => m.kind === "Deployment");
    const spec = (deployment!.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec;
    spec.containers[0]!.readinessProbes = spec.containers[0]!.readinessProbe;
    const r = dryRun([deployment!]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('unknown field "spec.template.spec.containers[0].readinessProbes"');
  });

  it("rejects an invalid value", () => {
    const [pdb] = renderChart({ namespace: releaseNamespace }).filter((m) => m.kind === "PodDisruptionBudget");
    (pdb!.spec as Record<string, unknown>).maxUnavailable = "150%";
    const r = dryRun([pdb!]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("maxUnavailable");
  });

  it("rejects a ServiceMonitor field the Prometheus Operator does not define", () => {
    const monitor = renderChart({ set: ["serviceMonitor.enabled=true"] }).find((m) => m.kind === "ServiceMonitor")!;
    (monitor.spec as Record<string, unknown>).endpoinds = [];
    expect(undeclaredFields(monitor)).toEqual(["spec.endpoinds"]);
  });
});

/**
 * The @kubernetes-models validators check types, enums and required fields but allow unknown fields; every field
 * name used must also be declared somewhere in the package's type declarations (keys of label maps excepted). This
 * catches typos, not a field put on the wrong type.
 */
function undeclaredFields(object: unknown): string[] {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve("@kubernetes-models/prometheus-operator/package.json"));
  const apimachinery = dirname(require.resolve("@kubernetes-models/apimachinery/package.json"));
  const declared = new Set<string>();
  const collect = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (!entry.name.endsWith(".d.ts")) continue;
      for (const m of readFileSync(join(entry.parentPath, entry.name), "utf8").matchAll(/^\s+"?([A-Za-z_$][\w$-]*)"?\??:/gm)) declared.add(m[1]!);
    }
  };
  collect(join(pkgDir, "monitoring.coreos.com/v1"));
  collect(apimachinery);
  const maps = new Set(["labels", "annotations", "matchLabels"]);
  const out: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (Array.isArray(value)) return value.forEach((v) => walk(v, path));
    if (value === null || typeof value !== "object") return;
    for (const [k, v] of Object.entries(value)) {
      const p = path === "" ? k : `${path}.${k}`;
      if (!declared.has(k)) out.push(p);
      if (!maps.has(k)) walk(v, p);
    }
  };
  walk(object, "");
  return out;
}
