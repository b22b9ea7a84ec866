import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { chartDir, repoRoot } from "../../support/helm.ts";
import { startKubeApiServer, type KubeApiServer } from "../../support/kube.ts";
import { createTestNamespace, testKube } from "../../support/kube-client.ts";
import { createChartSecrets, getObject, helm, helmOk, kubectl, kubectlOk, releaseManifests, uniqueReleaseName } from "../../support/kube-e2e.ts";

/**
 * The chart's CRD lifecycle (docs/helm.md, "CRD lifecycle") with Helm against a real API server. CRDs are
 * cluster-wide and the other test files depend on them, so this file runs an API server of its own, started without
 * CRDs, and stops it at the end (nothing inside needs cleaning up, as in watch-recovery.test.ts).
 */
const crdNames = ["logforwardingdestinations.trailkeeper.dev", "recordingstorages.trailkeeper.dev"];
const sample = path.join(repoRoot, "crds/samples/logforwardingdestination-webhook.yaml");
let server: KubeApiServer;
let namespace: string;
let release: string;

beforeAll(async () => {
  server = await startKubeApiServer({ applyCrds: false });
  const kube = testKube(server.kubeconfigPath);
  namespace = await createTestNamespace(kube, "op-helm-crds");
  release = uniqueReleaseName();
  await createChartSecrets(kube, namespace, release);
}, 240_000);

afterAll(async () => {
  await server?.stop();
});

const crd = (name: string) => getObject(server.kubeconfigPath, "customresourcedefinition", name);
const install = (...set: string[]) => helm(server.kubeconfigPath, ["install", release, chartDir, "--namespace", namespace, ...set.flatMap((s) => ["--set", s])]);
const uninstall = () => helm(server.kubeconfigPath, ["uninstall", release, "--namespace", namespace]);

async function expectCrdsGone(): Promise<void> {
  // A CRD's deletion is finished by the apiextensions server itself (its cleanup finalizer), no controller-manager needed.
  await vi.waitFor(() => expect(crdNames.map(crd)).toEqual([undefined, undefined]), { timeout: 30_000, interval: 250 });
}

describe("CRDs installed by the chart", () => {
  it("crds.enabled with crds.keep=false: installed and served with the release, deleted by `helm uninstall`", async () => {
    const r = install("crds.keep=false");
    expect(r.status, r.stderr).toBe(0);
    expect(releaseManifests(server.kubeconfigPath, release, namespace).filter((m) => m.kind === "CustomResourceDefinition").map((m) => m.metadata.name).sort()).toEqual(crdNames);
    kubectlOk(server.kubeconfigPath, ["wait", "--for=condition=Established", "--timeout=60s", ...crdNames.map((n) => `customresourcedefinition/${n}`)]);
    for (const name of crdNames) {
      const stored = crd(name)!;
      expect(stored.metadata.labels).toMatchObject({ "app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": release });
      expect(stored.metadata.annotations?.["helm.sh/resource-policy"]).toBeUndefined();
    }
    kubectlOk(server.kubeconfigPath, ["apply", "--server-side", "--namespace", namespace, "-f", sample]);

    const u = uninstall();
    expect(u.status, u.stderr).toBe(0);
    expect(u.stdout).not.toContain("kept due to the resource policy");
    await expectCrdsGone();
  });

  it("crds.keep (the default): `helm uninstall` keeps the CRDs and every custom resource", () => {
    const r = install();
    expect(r.status, r.stderr).toBe(0);
    kubectlOk(server.kubeconfigPath, ["wait", "--for=condition=Established", "--timeout=60s", ...crdNames.map((n) => `customresourcedefinition/${n}`)]);
    for (const name of crdNames) expect(crd(name)!.metadata.annotations).toMatchObject({ "helm.sh/resource-policy": "keep" });
    kubectlOk(server.kubeconfigPath, ["apply", "--server-side", "--namespace", namespace, "-f", sample]);

    const u = uninstall();
    expect(u.status, u.stderr).toBe(0);
    expect(u.stdout).toContain("These resources were kept due to the resource policy");
    for (const name of crdNames) expect(u.stdout).toContain(`[CustomResourceDefinition] ${name}`);
    for (const name of crdNames) expect(crd(name), name).toBeDefined();
    expect(getObject(server.kubeconfigPath, "logforwardingdestination", "siem-webhook", namespace)).toBeDefined();
    // Everything else of the release is gone.
    expect(getObject(server.kubeconfigPath, "clusterrole", `${release}-trailkeeper-operator`)).toBeUndefined();
    expect(getObject(server.kubeconfigPath, "deployment", `${release}-trailkeeper-operator`, namespace)).toBeUndefined();
  });

  it("refuses to adopt CRDs applied with kubectl (as docs/helm.md says); crds.enabled=false installs beside them", async () => {
    kubectlOk(server.kubeconfigPath, ["delete", "customresourcedefinition", ...crdNames, "--wait=false"]);
    await expectCrdsGone();
    kubectlOk(server.kubeconfigPath, ["apply", "--server-side", "-f", `${path.join(repoRoot, "crds")}/`]);

    const refused = install();
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(`CustomResourceDefinition "${crdNames[0]}" in namespace "" exists and cannot be imported into the current release: invalid ownership metadata`);
    expect(refused.stderr).toContain(`missing key "meta.helm.sh/release-name": must be set to "${release}"`);

    const r = install("crds.enabled=false");
    expect(r.status, r.stderr).toBe(0);
    expect(releaseManifests(server.kubeconfigPath, release, namespace).some((m) => m.kind === "CustomResourceDefinition")).toBe(false);
    const u = uninstall();
    expect(u.status, u.stderr).toBe(0);
    for (const name of crdNames) expect(crd(name), name).toBeDefined();
    expect(kubectl(server.kubeconfigPath, ["get", "clusterroles", "-l", `app.kubernetes.io/instance=${release}`, "-o", "name"]).stdout.trim()).toBe("");
    expect(helmOk(server.kubeconfigPath, ["list", "--namespace", namespace, "-q"]).trim()).toBe("");
  });
});
