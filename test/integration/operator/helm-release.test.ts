import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { chartDir, renderChart } from "../../support/helm.ts";
import { createTestNamespace, testKube } from "../../support/kube-client.ts";
import {
  chartFullname,
  createChartSecrets,
  deleteE2eNamespace,
  getObject,
  helm,
  helmOk,
  helmStderr,
  kubectl,
  objectRef,
  releaseManifests,
  removeRelease,
  toYamlStream,
  uniqueReleaseName,
} from "../../support/kube-e2e.ts";

/**
 * `helm install`, `upgrade` and `uninstall` of charts/trailkeeper against the suite's API server. No pod runs on the
 * harness (no scheduler, no kubelet): this is about what Helm stores. The CRDs belong to the suite (the global setup,
 * or the release of `make e2e-kind`), so this release is installed with `crds.enabled=false`; the CRD lifecycle is
 * tested on an API server of its own in helm-crds.test.ts. `operator.watchNamespace` keeps the release's operator
 * (which does run on kind) out of the other tests' namespaces.
 */
const kubeconfigPath = inject("kubeconfigPath");
const kube = testKube(kubeconfigPath);
const release = uniqueReleaseName();
const fullname = chartFullname(release);
let namespace: string;
let userSecrets: string[];
let values: string[];

beforeAll(async () => {
  namespace = await createTestNamespace(kube, "op-helm");
  userSecrets = await createChartSecrets(kube, namespace, release);
  values = ["crds.enabled=false", `operator.watchNamespace=${namespace}`];
});

afterAll(async () => {
  if (!namespace) return;
  removeRelease(kubeconfigPath, release, namespace);
  await deleteE2eNamespace(kube, namespace);
});

const setArgs = (set: string[]) => set.flatMap((s) => ["--set", s]);
const namespaced = (kind: string) => !["ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"].includes(kind);
const stored = (kind: string, name: string) => getObject(kubeconfigPath, kind, name, namespaced(kind) ? namespace : undefined);

interface HelmStatus {
  name: string;
  version: number;
  info: { status: string };
}
const status = () => JSON.parse(helmOk(kubeconfigPath, ["status", release, "--namespace", namespace, "-o", "json"])) as HelmStatus;

describe("a Helm release of charts/trailkeeper on a real API server", () => {
  it("passes `kubectl apply --dry-run=server` with the release's rendered objects", () => {
    const manifests = renderChart({ releaseName: release, namespace, set: values });
    const r = kubectl(kubeconfigPath, ["apply", "--dry-run=server", "--namespace", namespace, "-f", "-"], toYamlStream(manifests));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(manifests.length);
    for (const line of lines) expect(line).toMatch(/ created \(server dry run\)$/);
    // A dry run stores nothing.
    expect(stored("Deployment", `${fullname}-operator`)).toBeUndefined();
  });

  it("installs: every object of the release is stored, with the values given", () => {
    const r = helm(kubeconfigPath, ["install", release, chartDir, "--namespace", namespace, ...setArgs(values)]);
    expect(helmStderr(r)).toEqual([]);
    expect(r.status).toBe(0);
    expect(status()).toMatchObject({ name: release, version: 1, info: { status: "deployed" } });

    const manifests = releaseManifests(kubeconfigPath, release, namespace);
    expect(manifests.map(objectRef).sort()).toEqual(
      [
        `ClusterRole/${fullname}-operator`,
        `ClusterRoleBinding/${fullname}-operator`,
        `Deployment/${fullname}-api-server`,
        `Deployment/${fullname}-operator`,
        `PodDisruptionBudget/${fullname}-api-server`,
        `PodDisruptionBudget/${fullname}-operator`,
        `Role/${fullname}-operator`,
        `Role/${fullname}-operator-leader-election`,
        `RoleBinding/${fullname}-operator`,
        `RoleBinding/${fullname}-operator-leader-election`,
        `Service/${fullname}-api-server`,
        `Service/${fullname}-operator-metrics`,
        `ServiceAccount/${fullname}-api-server`,
        `ServiceAccount/${fullname}-operator`,
      ].sort(),
    );
    for (const m of manifests) {
      const object = stored(m.kind, m.metadata.name);
      expect(object, objectRef(m)).toBeDefined();
      expect(object!.metadata.labels).toMatchObject({ "app.kubernetes.io/instance": release, "app.kubernetes.io/managed-by": "Helm" });
      expect(object!.metadata.annotations).toMatchObject({ "meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": namespace });
    }
    const api = stored("Deployment", `${fullname}-api-server`) as unknown as { spec: { replicas: number }; metadata: { generation: number } };
    expect(api.spec.replicas).toBe(2);
    expect(api.metadata.generation).toBe(1);
    // The Role for the watched namespace, and the Services got cluster IPs from the API server's allocator.
    expect(stored("Role", `${fullname}-operator`)!.metadata.namespace).toBe(namespace);
    expect((stored("Service", `${fullname}-api-server`) as unknown as { spec: { clusterIP: string } }).spec.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // Helm keeps the release record in a Secret of the release namespace.
    expect(stored("Secret", `sh.helm.release.v1.${release}.v1`)).toBeDefined();
  });

  it("upgrades: a changed value changes the stored Deployment, and nothing else", () => {
    const operatorBefore = stored("Deployment", `${fullname}-operator`) as unknown as { metadata: { generation: number; resourceVersion: string } };
    const r = helm(kubeconfigPath, ["upgrade", release, chartDir, "--namespace", namespace, "--reuse-values", "--set", "apiServer.replicaCount=3"]);
    expect(helmStderr(r)).toEqual([]);
    expect(r.status).toBe(0);
    expect(status()).toMatchObject({ version: 2, info: { status: "deployed" } });

    const api = stored("Deployment", `${fullname}-api-server`) as unknown as { spec: { replicas: number }; metadata: { generation: number } };
    expect(api.spec.replicas).toBe(3);
    expect(api.metadata.generation).toBe(2);
    const operatorAfter = stored("Deployment", `${fullname}-operator`) as unknown as { spec: { replicas: number }; metadata: { generation: number; resourceVersion: string } };
    expect(operatorAfter.metadata.generation).toBe(operatorBefore.metadata.generation);
    expect(operatorAfter.spec.replicas).toBe(2);
    // --reuse-values kept the first install's values (crds.enabled=false: otherwise Helm would have failed to adopt the suite's CRDs).
    expect(stored("Role", `${fullname}-operator`)).toBeDefined();
    expect(helmOk(kubeconfigPath, ["get", "values", release, "--namespace", namespace, "-o", "json"])).toContain('"replicaCount":3');
    const history = JSON.parse(helmOk(kubeconfigPath, ["history", release, "--namespace", namespace, "-o", "json"])) as { revision: number; status: string }[];
    expect(history.map((h) => [h.revision, h.status])).toEqual([
      [1, "superseded"],
      [2, "deployed"],
    ]);
  });

  it("uninstalls: every object of the release is removed; the Secrets it did not create stay", async () => {
    const manifests = releaseManifests(kubeconfigPath, release, namespace);
    const r = helm(kubeconfigPath, ["uninstall", release, "--namespace", namespace]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`release "${release}" uninstalled`);
    // Deleted in the background (Helm's default propagation): gone at once on the harness, within moments on kind.
    await vi.waitFor(() => {
      for (const m of manifests) expect(stored(m.kind, m.metadata.name), objectRef(m)).toBeUndefined();
    }, { timeout: 30_000, interval: 250 });
    expect(kubectl(kubeconfigPath, ["get", "clusterroles,clusterrolebindings", "-l", `app.kubernetes.io/instance=${release}`, "-o", "name"]).stdout.trim()).toBe("");
    const secrets = kubectl(kubeconfigPath, ["get", "secrets", "--namespace", namespace, "-o", "jsonpath={.items[*].metadata.name}"]).stdout.split(" ").filter(Boolean);
    expect(secrets.sort()).toEqual([...userSecrets].sort());
    expect(helm(kubeconfigPath, ["status", release, "--namespace", namespace]).stderr).toContain("release: not found");
  });
});
