import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { call, startTestApi, tenantWithKey } from "../../support/api.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { renderChart, type KubeManifest } from "../../support/helm.ts";
import { createTestNamespace, getResource, putSecret, testKube } from "../../support/kube-client.ts";
import { canI, chartFullname, deleteE2eNamespace, kubectl, kubectlOk, serviceAccountKubeconfig, toYamlStream, uniqueReleaseName, whoami } from "../../support/kube-e2e.ts";

/**
 * The chart's RBAC and ValidatingAdmissionPolicy for apiServer.kubernetesAccess, applied to the real kube-apiserver
 * and exercised as the API server's ServiceAccount (a TokenRequest token, as in a pod): enough for Save, and no
 * Secret write without the API server's label gets through, even when the server's own check is bypassed.
 */
const kube = testKube(inject("kubeconfigPath"));
const admin = kube.kubeconfigPath;
const release = uniqueReleaseName("save");
const fullname = chartFullname(release);
const serviceAccount = `${fullname}-api-server`;
const label = "app.kubernetes.io/managed-by=trailkeeper-api-server";

let releaseNs: string;
let tenantNs: string;
let tmp: string;
let identity: string;
let manifests: KubeManifest[];
let db: TestDatabase;
let api: RunningApiServer | undefined;

const secretYaml = (name: string, labels: Record<string, string> = {}, value = "v") =>
  toYamlStream([{ apiVersion: "v1", kind: "Secret", metadata: { name, namespace: tenantNs, labels }, stringData: { key: value } } as unknown as KubeManifest]);
const asApiServer = (args: string[], input?: string) => kubectl(identity, args, input);
const managedLabels = { "app.kubernetes.io/managed-by": "trailkeeper-api-server" };

/** A PATCH sent as the ServiceAccount straight to the API (kubectl patch would GET first, which the role lacks). */
async function patchAsApiServer(name: string, body: unknown, strategy: PatchStrategy): Promise<{ ok: boolean; message: string }> {
  const kc = new KubeConfig();
  kc.loadFromFile(identity);
  try {
    await kc.makeApiClient(CoreV1Api).patchNamespacedSecret({ namespace: tenantNs, name, body }, setHeaderOptions("Content-Type", strategy));
    return { ok: true, message: "" };
  } catch (err) {
    return { ok: false, message: String((err as { body?: unknown }).body ?? err) };
  }
}

beforeAll(async () => {
  releaseNs = await createTestNamespace(kube, "save-sys");
  tenantNs = await createTestNamespace(kube, "save-tenant");
  tmp = mkdtempSync(path.join(tmpdir(), "trailkeeper-save-rbac-"));
  writeFileSync(path.join(tmp, "values.yaml"), yaml.dump({ crds: { enabled: false }, apiServer: { kubernetesAccess: { enabled: true, namespaces: [tenantNs] } } }));
  manifests = renderChart({ releaseName: release, namespace: releaseNs, valuesFiles: [path.join(tmp, "values.yaml")] });
  const sa = manifests.filter((m) => m.kind === "ServiceAccount" && m.metadata.name === serviceAccount);
  expect(sa).toHaveLength(1);
  kubectlOk(admin, ["apply", "--server-side", "--field-manager=trailkeeper-e2e", "-f", "-"], toYamlStream(sa));
  identity = serviceAccountKubeconfig(admin, releaseNs, serviceAccount, path.join(tmp, "kubeconfig-api-server"));
  db = await freshDatabase();
}, 120_000);

afterAll(async () => {
  await api?.close();
  await db?.drop();
  kubectl(admin, ["delete", "clusterrolebindings,clusterroles,validatingadmissionpolicies,validatingadmissionpolicybindings", "-l", `app.kubernetes.io/instance=${release}`, "--ignore-not-found", "--wait=false"]);
  for (const ns of [releaseNs, tenantNs]) if (ns) await deleteE2eNamespace(kube, ns);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("the chart's RBAC and admission policy for Save", () => {
  it("authenticates as the API server's ServiceAccount, which may do nothing before the chart's objects are applied", () => {
    expect(whoami(identity)).toBe(`system:serviceaccount:${releaseNs}:${serviceAccount}`);
    expect(canI(identity, "create", "secrets", tenantNs)).toBe(false);
  });

  it("applies the rendered roles, bindings and policy, which the apiserver accepts", async () => {
    const apiServerObjects = manifests.filter((m) => ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"].includes(m.kind) && m.metadata.name.startsWith(`${fullname}-api-server`));
    expect(apiServerObjects.map((m) => m.kind).sort()).toEqual(["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]);
    kubectlOk(admin, ["apply", "--server-side", "--field-manager=trailkeeper-e2e", "-f", "-"], toYamlStream(apiServerObjects));
    await vi.waitFor(() => expect(canI(identity, "create", "secrets", tenantNs)).toBe(true), { timeout: 15_000, interval: 250 });
    for (const [verb, resource, ns] of [["update", "logforwardingdestinations.trailkeeper.dev", tenantNs], ["create", "recordingstorages.trailkeeper.dev", tenantNs], ["patch", "secrets", tenantNs], ["list", "namespaces", undefined]] as const) {
      expect(canI(identity, verb, resource, ns), `${verb} ${resource}`).toBe(true);
    }
    for (const [verb, resource, ns] of [["get", "secrets", tenantNs], ["update", "secrets", tenantNs], ["list", "secrets", tenantNs], ["watch", "secrets", tenantNs], ["delete", "secrets", tenantNs], ["create", "secrets", releaseNs], ["create", "logforwardingdestinations.trailkeeper.dev", releaseNs], ["delete", "logforwardingdestinations.trailkeeper.dev", tenantNs], ["get", "pods", tenantNs]] as const) {
      expect(canI(identity, verb, resource, ns), `${verb} ${resource} in ${ns}`).toBe(false);
    }
  });

  it("lets the ServiceAccount create a labelled Secret and refuses an unlabelled one", async () => {
    // The policy is compiled and its binding picked up asynchronously: wait until it denies.
    await vi.waitFor(() => {
      const r = asApiServer(["create", "-f", "-"], secretYaml("unlabelled"));
      if (r.status === 0) kubectlOk(admin, ["delete", "secret", "unlabelled", "--namespace", tenantNs]);
      expect(r.stderr).toContain(`ValidatingAdmissionPolicy '${fullname}-api-server-secrets' with binding '${fullname}-api-server-secrets' denied request: the Trailkeeper API server may only write Secrets labelled ${label}`);
    }, { timeout: 30_000, interval: 500 });
    const ok = asApiServer(["create", "-f", "-"], secretYaml("labelled", managedLabels));
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    // Removing its own label would take the Secret out of the policy's protection: refused.
    const unlabel = await patchAsApiServer("labelled", [{ op: "remove", path: "/metadata/labels/app.kubernetes.io~1managed-by" }], PatchStrategy.JsonPatch);
    expect(unlabel.ok).toBe(false);
    expect(unlabel.message).toContain("denied request");
  });

  it("refuses the ServiceAccount any change to a Secret it did not create, even one that adds the label", async () => {
    await putSecret(kube, tenantNs, "hand-made", { key: "kept" });
    for (const labels of [{}, managedLabels]) {
      const r = await patchAsApiServer("hand-made", { metadata: { labels }, data: { key: Buffer.from("overwritten").toString("base64") } }, PatchStrategy.MergePatch);
      expect(r.ok, JSON.stringify(labels)).toBe(false);
      expect(r.message).toMatch(/denied request: the Trailkeeper API server may (only write Secrets labelled|only change Secrets it created)/);
    }
    const patched = asApiServer(["label", "secret", "hand-made", "--namespace", tenantNs, label]);
    expect(patched.status).not.toBe(0);
    const stored = await kube.core.readNamespacedSecret({ namespace: tenantNs, name: "hand-made" });
    expect([Buffer.from(stored.data?.key ?? "", "base64").toString(), stored.metadata?.labels?.["app.kubernetes.io/managed-by"]]).toEqual(["kept", undefined]);
  });

  it("is enough for the API server to save as that ServiceAccount, which refuses an unmanaged Secret on its own", async () => {
    api = await startTestApi(db, { TRAILKEEPER_KUBERNETES_ACCESS: "true", KUBECONFIG: identity, TRAILKEEPER_KUBERNETES_NAMESPACES: tenantNs });
    const key = await tenantWithKey(api.url, tenantNs, ["config:read", "config:write"]);
    expect((await call(api.url, "GET", "/v1/config/capabilities", { token: key })).body).toEqual({ save: "kubernetes", namespaces: [tenantNs] });
    const spec = (secret: string) => ({ webhook: { url: "https://siem.example.com/ingest", signingSecretRef: { name: secret, key: "signing-secret" } } });
    const saved = await call(api.url, "PUT", `/v1/destinations/${tenantNs}/siem`, { token: key, body: { spec: spec("siem-hook"), secrets: { "siem-hook": { "signing-secret": "s3cr3t" } } } });
    expect([saved.status, saved.body]).toEqual([201, { namespace: tenantNs, name: "siem", created: true, generation: 1 }]);
    expect((await getResource(kube, "logforwardingdestinations", tenantNs, "siem")).spec.webhook.signingSecretRef.name).toBe("siem-hook");
    const again = await call(api.url, "PUT", `/v1/destinations/${tenantNs}/siem`, { token: key, body: { spec: spec("siem-hook"), secrets: { "siem-hook": { "signing-secret": "rotated" } } } });
    expect(again.status).toBe(200);
    const hook = await kube.core.readNamespacedSecret({ namespace: tenantNs, name: "siem-hook" });
    expect(Buffer.from(hook.data?.["signing-secret"] ?? "", "base64").toString()).toBe("rotated");
    const toggled = await call(api.url, "PATCH", `/v1/destinations/${tenantNs}/siem`, { token: key, body: { enabled: false } });
    expect(toggled.status).toBe(200);

    const refused = await call(api.url, "PUT", `/v1/destinations/${tenantNs}/other`, { token: key, body: { spec: spec("hand-made"), secrets: { "hand-made": { "signing-secret": "x" } } } });
    expect([refused.status, refused.body.code]).toEqual([409, "secret_not_managed"]);
    // Outside the namespaces it was given, the server refuses before RBAC would.
    const elsewhere = await call(api.url, "PUT", `/v1/destinations/${releaseNs}/siem`, { token: key, body: { spec: spec("siem-hook") } });
    expect([elsewhere.status, elsewhere.body.code]).toEqual([404, "namespace_not_bound"]);
  });
});
