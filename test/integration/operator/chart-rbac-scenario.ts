import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startWebhookReceiver, type WebhookReceiver } from "../../protocol-servers/webhook-receiver.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { renderChart, type KubeManifest } from "../../support/helm.ts";
import { condition, createResource, createTestNamespace, eventsFor, getResource, putSecret, testKube, type CustomResourceJson, type TestKube } from "../../support/kube-client.ts";
import { canI, chartFullname, deleteE2eNamespace, deploymentEnv, kubectl, kubectlOk, serviceAccountKubeconfig, toYamlStream, uniqueReleaseName, whoami } from "../../support/kube-e2e.ts";
import { metricValue, spawnOperator, type OperatorProcess } from "../../support/kube-operator.ts";

/**
 * "The operator's own RBAC from the chart is enough": the chart's ServiceAccount, ClusterRole, Roles and bindings
 * for a release are rendered and applied, and `node operator/src/main.ts` runs with the environment of the chart's
 * Deployment, authenticated as that ServiceAccount with a TokenRequest token (`kubectl create token`), as in a pod.
 * It must reconcile, write status, emit Events, hold its Lease and its forwarding member Lease and forward, and the
 * same identity must be refused what the chart does not grant. Used by operator-rbac-*.test.ts for the chart's two RBAC shapes.
 */
export interface ChartRbacScenario {
  /** The suite's cluster, or one the scenario starts for itself; `stop` runs after the cleanup. */
  cluster(): Promise<{ kubeconfigPath: string; stop(): Promise<void> }>;
  /**
   * `namespace`: `operator.watchNamespace` set to the tenant namespace (a Role there, WATCH_NAMESPACE set).
   * `cluster`: default values (a ClusterRole for every namespace, WATCH_NAMESPACE empty): the operator then serves
   * every namespace of the cluster, so it needs a cluster to itself.
   */
  scope: "namespace" | "cluster";
}

const leaseSeconds = 4;
const secret = () => `whsec_${randomBytes(32).toString("base64")}`;

export function describeOperatorUnderChartRbac(title: string, scenario: ChartRbacScenario): void {
  describe(title, () => {
    const goodSecret = secret();
    const release = uniqueReleaseName("rbac");
    const fullname = chartFullname(release);
    const serviceAccount = `${fullname}-operator`;
    let admin: string;
    let stopCluster: (() => Promise<void>) | undefined;
    let kube: TestKube;
    let releaseNs: string;
    let tenantNs: string;
    let manifests: KubeManifest[];
    let rbac: KubeManifest[];
    let identity: string;
    let tmp: string;
    let receiver: WebhookReceiver;
    let operator: OperatorProcess | undefined;
    let db: TestDatabase | undefined;
    const podName = `${fullname}-operator-${randomBytes(3).toString("hex")}`;
    let chartEnv: ReturnType<typeof deploymentEnv>;
    let leaseName: string;
    const as = (args: string[], input?: string) => kubectl(identity, args, input);

    beforeAll(async () => {
      const cluster = await scenario.cluster();
      admin = cluster.kubeconfigPath;
      stopCluster = cluster.stop;
      kube = testKube(admin);
      releaseNs = await createTestNamespace(kube, "op-rbac-sys");
      tenantNs = await createTestNamespace(kube, "op-rbac-tenant");
      tmp = mkdtempSync(path.join(tmpdir(), "trailkeeper-rbac-"));
      // A values file, not --set: Helm's --set turns 0.5 into a string, which values.schema.json rightly refuses.
      const values = {
        crds: { enabled: false },
        operator: {
          egress: { allowLoopback: true }, // the webhook receiver listens on 127.0.0.1
          logLevel: "debug",
          leaderElection: { leaseDurationSeconds: leaseSeconds, renewDeadlineSeconds: 3, retryPeriodSeconds: 0.5 },
          ...(scenario.scope === "namespace" ? { watchNamespace: tenantNs } : {}),
        },
      };
      writeFileSync(path.join(tmp, "values.yaml"), yaml.dump(values));
      manifests = renderChart({ releaseName: release, namespace: releaseNs, valuesFiles: [path.join(tmp, "values.yaml")] });
      rbac = manifests.filter((m) => ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"].includes(m.kind));
      const deployment = manifests.find((m) => m.kind === "Deployment" && m.metadata.name === `${fullname}-operator`);
      if (deployment === undefined) throw new Error("the chart rendered no operator Deployment");
      chartEnv = deploymentEnv(deployment, { name: podName, namespace: releaseNs });
      leaseName = chartEnv.env.LEASE_NAME!;
      const sa = manifests.filter((m) => m.kind === "ServiceAccount" && m.metadata.name === serviceAccount);
      expect(sa).toHaveLength(1);
      kubectlOk(admin, ["apply", "--server-side", "--field-manager=trailkeeper-e2e", "-f", "-"], toYamlStream(sa));
      identity = serviceAccountKubeconfig(admin, releaseNs, serviceAccount, path.join(tmp, "kubeconfig-operator"));

      db = await freshDatabase();
      receiver = await startWebhookReceiver({ secret: goodSecret });
      await putSecret(kube, tenantNs, "siem", { "signing-secret": goodSecret });
      await createResource(kube, "logforwardingdestinations", tenantNs, "siem", {
        webhook: { url: `${receiver.url}/ingest`, allowInsecureHttp: true, signingSecretRef: { name: "siem", key: "signing-secret" } },
      });
    }, 240_000);

    afterAll(async () => {
      await operator?.stop("SIGKILL");
      await receiver?.close();
      await db?.drop();
      if (kube !== undefined) {
        kubectl(admin, ["delete", "clusterrolebindings,clusterroles", "-l", `app.kubernetes.io/instance=${release}`, "--ignore-not-found", "--wait=false"]);
        for (const ns of [releaseNs, tenantNs]) if (ns) await deleteE2eNamespace(kube, ns);
      }
      if (tmp) rmSync(tmp, { recursive: true, force: true });
      await stopCluster?.();
    });

    const readyIs = async (status: string, reason: string): Promise<CustomResourceJson> =>
      vi.waitFor(
        async () => {
          const r = await getResource(kube, "logforwardingdestinations", tenantNs, "siem");
          expect(condition(r, "Ready")).toMatchObject({ status, reason });
          expect(r.status.observedGeneration).toBe(r.metadata.generation);
          return r;
        },
        { timeout: 15_000, interval: 100 },
      );
    const lease = () => kube.coordination.readNamespacedLease({ namespace: releaseNs, name: leaseName });
    const memberLeases = async () => (await kube.coordination.listNamespacedLease({ namespace: releaseNs, labelSelector: `trailkeeper.dev/members-of=${leaseName}` })).items;

    it("authenticates as the ServiceAccount, which may do nothing before the chart's roles are applied", () => {
      expect(whoami(identity)).toBe(`system:serviceaccount:${releaseNs}:${serviceAccount}`);
      const r = as(["get", "logforwardingdestinations", "--namespace", tenantNs]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(`Error from server (Forbidden): logforwardingdestinations.trailkeeper.dev is forbidden: User "system:serviceaccount:${releaseNs}:${serviceAccount}"`);
    });

    it("is granted the operator's list once the chart's ClusterRole, Roles and bindings are applied", async () => {
      expect(rbac.map((m) => m.kind).sort()).toEqual(
        scenario.scope === "namespace" ? ["ClusterRole", "ClusterRoleBinding", "Role", "Role", "RoleBinding", "RoleBinding"] : ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
      );
      kubectlOk(admin, ["apply", "--server-side", "--field-manager=trailkeeper-e2e", "-f", "-"], toYamlStream(rbac));
      // The authorizer's caches pick new bindings up within about a second.
      await vi.waitFor(() => expect(canI(identity, "watch", "logforwardingdestinations.trailkeeper.dev", tenantNs)).toBe(true), { timeout: 15_000, interval: 250 });
      expect(canI(identity, "patch", "logforwardingdestinations.trailkeeper.dev", tenantNs, { subresource: "status" })).toBe(true);
      expect(canI(identity, "update", "recordingstorages.trailkeeper.dev", tenantNs, { subresource: "status" })).toBe(true);
      const granted: [string, string, string?][] = [
        ["list", "recordingstorages.trailkeeper.dev", tenantNs],
        ["create", "events.events.k8s.io", tenantNs],
        ["watch", "secrets", tenantNs],
        ["get", "secrets", tenantNs],
        ["watch", "namespaces"],
        ["create", "leases.coordination.k8s.io", releaseNs],
        ["update", `leases.coordination.k8s.io/${leaseName}`, releaseNs],
        // Forwarding membership: one Lease per replica, named after its pod.
        ["list", "leases.coordination.k8s.io", releaseNs],
        ["delete", `leases.coordination.k8s.io/${leaseName}-member-${podName}`, releaseNs],
      ];
      for (const [verb, resource, ns] of granted) expect(canI(identity, verb, resource, ns), `${verb} ${resource} in ${ns ?? "the cluster"}`).toBe(true);
    });

    it("runs the operator under that identity: Ready=True, status written, Events emitted, Lease held", async () => {
      const { env, fromSecrets } = chartEnv;
      // The database URL is the only value from a Secret; without it the operator tests destinations and reports.
      expect(fromSecrets).toEqual(["DATABASE_URL"]);
      expect(env.WATCH_NAMESPACE).toBe(scenario.scope === "namespace" ? tenantNs : "");
      expect(env.LEASE_NAMESPACE).toBe(releaseNs);
      // In-cluster the token comes from the pod; here from the kubeconfig. Port 0: test files run in parallel.
      operator = await spawnOperator({ ...env, DATABASE_URL: db!.url, KUBECONFIG: identity, METRICS_PORT: "0", HEALTH_BIND_ADDRESS: "127.0.0.1" });

      const r = await readyIs("True", "Succeeded");
      expect(r.status.lastCheck).toMatchObject({ success: true, reason: "Succeeded" });
      expect(receiver.received.length).toBeGreaterThan(0);
      await vi.waitFor(async () => expect(await eventsFor(kube, tenantNs, "siem")).toContainEqual(expect.objectContaining({ type: "Normal", reason: "Succeeded" })), { timeout: 10_000 });

      const held = await lease();
      expect(held.spec?.holderIdentity).toBe(podName);
      // Renewals are updates of the Lease, which the Role grants for this name only.
      await vi.waitFor(async () => expect(String((await lease()).spec?.renewTime)).not.toBe(String(held.spec?.renewTime)), { timeout: 5_000, interval: 100 });
      expect(metricValue(await operator.metrics(), "trailkeeper_operator_leader")).toBe(1);
      // Forwarding across replicas: it holds its member Lease and forwards the destination (holding its cursor).
      await vi.waitFor(async () => expect((await memberLeases()).map((l) => l.spec?.holderIdentity)).toEqual([podName]), { timeout: 10_000, interval: 100 });
      await vi.waitFor(async () => expect((await db!.pool.query("SELECT owner FROM delivery_cursors")).rows).toEqual([{ owner: podName }]), { timeout: 10_000, interval: 100 });
    });

    it("follows changes to the referenced Secret (watch, then get)", async () => {
      await putSecret(kube, tenantNs, "siem", { "signing-secret": secret() });
      await readyIs("False", "InvalidCredentials");
      await putSecret(kube, tenantNs, "siem", { "signing-secret": goodSecret });
      await readyIs("True", "Succeeded");
    });

    it("met no authorization failure while it ran", async () => {
      const metrics = await operator!.metrics();
      expect(metricValue(metrics, "trailkeeper_operator_reconcile_errors_total")).toBe(0);
      expect(metricValue(metrics, "trailkeeper_operator_watch_restarts_total", { reason: "error" })).toBe(0);
      expect(metricValue(metrics, "trailkeeper_operator_events_total", { result: "error" })).toBe(0);
      for (const resource of ["logforwardingdestinations", "recordingstorages", "secrets", "namespaces"]) {
        expect(metricValue(metrics, "trailkeeper_operator_relists_total", { resource }), resource).toBeGreaterThan(0);
      }
      expect(operator!.log()).not.toMatch(/forbidden|"level":"error"/i);
    });

    it("is refused what the chart does not grant", () => {
      const user = `User "system:serviceaccount:${releaseNs}:${serviceAccount}"`;
      const refused = (args: string[], message: string, input?: string) => {
        const r = as(args, input);
        expect(r.status, `${args.join(" ")} should be refused`).not.toBe(0);
        expect(r.stderr).toContain(`forbidden: ${user} ${message}`);
      };
      refused(["create", "secret", "generic", "stolen", "--namespace", tenantNs, "--from-literal=a=b"], `cannot create resource "secrets" in API group "" in the namespace "${tenantNs}"`);
      refused(["patch", "logforwardingdestination", "siem", "--namespace", tenantNs, "--type=merge", "-p", '{"spec":{"enabled":false}}'], `cannot patch resource "logforwardingdestinations" in API group "trailkeeper.dev" in the namespace "${tenantNs}"`);
      refused(["delete", "logforwardingdestination", "siem", "--namespace", tenantNs], `cannot delete resource "logforwardingdestinations" in API group "trailkeeper.dev" in the namespace "${tenantNs}"`);
      refused(["get", "pods", "--namespace", tenantNs], `cannot list resource "pods" in API group "" in the namespace "${tenantNs}"`);
      refused(["get", "lease", "someone-elses", "--namespace", tenantNs], `cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "${tenantNs}"`);
      const foreignLease = toYamlStream([{ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "grab", namespace: tenantNs } }]);
      refused(["create", "-f", "-"], `cannot create resource "leases" in API group "coordination.k8s.io" in the namespace "${tenantNs}"`, foreignLease);
      refused(["delete", "namespace", tenantNs], `cannot delete resource "namespaces" in API group "" in the namespace "${tenantNs}"`);
      if (scenario.scope === "namespace") {
        // Outside the watched namespace there is nothing but its own Lease.
        refused(["get", "secrets", "--namespace", releaseNs], `cannot list resource "secrets" in API group "" in the namespace "${releaseNs}"`);
        refused(["get", "logforwardingdestinations", "--all-namespaces"], `cannot list resource "logforwardingdestinations" in API group "trailkeeper.dev" at the cluster scope`);
      } else {
        expect(as(["get", "logforwardingdestinations", "--all-namespaces", "-o", "name"]).stdout).toContain("siem");
      }
      // The destination is untouched.
      expect(kubectlOk(admin, ["get", "logforwardingdestination", "siem", "--namespace", tenantNs, "-o", "jsonpath={.spec.enabled}"])).toBe("true");
    });

    it("releases its Lease and exits 0 on SIGTERM", async () => {
      expect(await operator!.stop("SIGTERM")).toBe(0);
      expect(operator!.log()).toContain("released leader lease");
      expect((await lease()).spec?.holderIdentity ?? "").toBe("");
      expect(operator!.log()).toContain("left forwarding membership");
      expect(await memberLeases()).toEqual([]);
    });
  });
}
