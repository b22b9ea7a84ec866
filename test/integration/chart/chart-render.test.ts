import { describe, expect, it } from "vitest";
import { allOnValues, findManifest, helmLint, helmTemplateRaw, renderChart, type KubeManifest } from "../../support/helm.ts";

/** `helm lint` and `helm template` (Helm 4) for the default values and for ci/all-on-values.yaml. */

interface Container {
  name: string;
  image: string;
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: unknown } }[];
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  automountServiceAccountToken?: boolean;
  serviceAccountName: string;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; emptyDir?: unknown; secret?: { secretName: string } }[];
}
const podSpec = (d: KubeManifest) => (d.spec as { template: { spec: PodSpec } }).template.spec;
const replicas = (d: KubeManifest) => (d.spec as { replicas: number }).replicas;
const envOf = (c: Container, name: string) => c.env?.find((e) => e.name === name);

const cases = [
  { name: "default values", valuesFiles: [] as string[] },
  { name: "every option on", valuesFiles: [allOnValues] },
];

describe.each(cases)("chart with $name", ({ valuesFiles }) => {
  const manifests = renderChart({ valuesFiles });
  const deployments = manifests.filter((m) => m.kind === "Deployment");

  it("passes helm lint --strict", () => {
    const r = helmLint({ valuesFiles });
    expect(r.stderr + r.stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
    expect(r.status).toBe(0);
  });

  it("renders both Deployments, Services, ServiceAccounts, PodDisruptionBudgets and the CRDs", () => {
    const kinds = manifests.map((m) => m.kind);
    expect(deployments.map((d) => d.metadata.labels?.["app.kubernetes.io/component"]).sort()).toEqual(["api-server", "operator"]);
    for (const kind of ["Service", "ServiceAccount", "PodDisruptionBudget", "CustomResourceDefinition"]) {
      expect(kinds.filter((k) => k === kind)).toHaveLength(2);
    }
    expect(kinds).not.toContain("Secret");
    expect(kinds).not.toContain("ConfigMap");
  });

  it("hardens every pod", () => {
    for (const d of deployments) {
      const spec = podSpec(d);
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
      expect(spec.volumes?.find((v) => v.name === "tmp")?.emptyDir).toBeDefined();
      for (const c of spec.containers) {
        expect(c.securityContext, `${d.metadata.name}/${c.name}`).toEqual({
          allowPrivilegeEscalation: false,
          privileged: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        });
        expect(c.volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
        expect(Object.keys(c.resources?.requests ?? {}).sort()).toEqual(expect.arrayContaining(["cpu", "memory"]));
        expect(Object.keys(c.resources?.limits ?? {}).sort()).toEqual(expect.arrayContaining(["cpu", "memory"]));
        expect(c.livenessProbe?.httpGet?.path).toBe("/healthz");
        expect(c.readinessProbe?.httpGet?.path).toBe("/readyz");
      }
    }
  });

  it("mounts a service account token only into the operator", () => {
    const api = findManifest(deployments, "Deployment", "api-server");
    const operator = findManifest(deployments, "Deployment", "operator");
    expect(podSpec(api).automountServiceAccountToken).toBe(false);
    expect(podSpec(operator).automountServiceAccountToken).toBe(true);
    for (const sa of manifests.filter((m) => m.kind === "ServiceAccount")) expect(sa.automountServiceAccountToken).toBe(false);
  });

  it("reads the database URL, admin token and signing key from Secrets, never from values", () => {
    const api = podSpec(findManifest(deployments, "Deployment", "api-server"));
    const c = api.containers[0]!;
    expect(envOf(c, "DATABASE_URL")?.valueFrom?.secretKeyRef).toBeDefined();
    expect(envOf(c, "TRAILKEEPER_ADMIN_TOKEN")?.valueFrom?.secretKeyRef).toBeDefined();
    const keyFile = envOf(c, "TRAILKEEPER_SIGNING_KEY_FILE")?.value ?? "";
    const mount = c.volumeMounts?.find((m) => keyFile.startsWith(`${m.mountPath}/`));
    expect(mount?.readOnly).toBe(true);
    expect(api.volumes?.find((v) => v.name === mount?.name)?.secret?.secretName).toBeTruthy();
    const operator = podSpec(findManifest(deployments, "Deployment", "operator")).containers[0]!;
    expect(envOf(operator, "DATABASE_URL")?.valueFrom?.secretKeyRef).toEqual(envOf(c, "DATABASE_URL")?.valueFrom?.secretKeyRef);
    for (const d of deployments) {
      for (const e of podSpec(d).containers.flatMap((x) => x.env ?? [])) expect(e.value ?? "").not.toMatch(/postgres(ql)?:\/\//);
    }
  });

  it("gives the operator the identity and Lease settings leader election needs", () => {
    const operator = findManifest(deployments, "Deployment", "operator");
    const c = podSpec(operator).containers[0]!;
    expect(envOf(c, "POD_NAME")?.valueFrom?.fieldRef).toEqual({ fieldPath: "metadata.name" });
    expect(envOf(c, "POD_NAMESPACE")?.valueFrom?.fieldRef).toEqual({ fieldPath: "metadata.namespace" });
    const leaseName = envOf(c, "LEASE_NAME")?.value;
    const leaseRole = manifests.find((m) => m.kind === "Role" && m.metadata.name.endsWith("-leader-election")) as { rules: { resourceNames?: string[] }[] } | undefined;
    expect(leaseRole?.rules.flatMap((r) => r.resourceNames ?? [])).toEqual([leaseName]);
    expect(envOf(c, "METRICS_PORT")?.value).toBe(String(c.ports?.find((p) => p.name === "metrics")?.containerPort));
  });
});

describe("chart options", () => {
  it("runs the operator with 2 replicas and a configurable number of API servers", () => {
    const manifests = renderChart({ set: ["apiServer.replicaCount=5"] });
    expect(replicas(findManifest(manifests, "Deployment", "operator"))).toBe(2);
    expect(replicas(findManifest(manifests, "Deployment", "api-server"))).toBe(5);
  });

  it("omits the CRDs with crds.enabled=false and the keep policy with crds.keep=false", () => {
    expect(renderChart({ set: ["crds.enabled=false"] }).filter((m) => m.kind === "CustomResourceDefinition")).toEqual([]);
    const kept = renderChart().filter((m) => m.kind === "CustomResourceDefinition");
    for (const crd of kept) expect(crd.metadata.annotations?.["helm.sh/resource-policy"]).toBe("keep");
    const notKept = renderChart({ set: ["crds.keep=false"] }).filter((m) => m.kind === "CustomResourceDefinition");
    expect(notKept).toHaveLength(2);
    for (const crd of notKept) expect(crd.metadata.annotations?.["helm.sh/resource-policy"]).toBeUndefined();
  });

  it("renders ServiceMonitors and NetworkPolicies only when enabled", () => {
    const kinds = renderChart().map((m) => m.kind);
    expect(kinds).not.toContain("ServiceMonitor");
    expect(kinds).not.toContain("NetworkPolicy");
    const on = renderChart({ set: ["serviceMonitor.enabled=true", "networkPolicy.enabled=true"] }).map((m) => m.kind);
    expect(on.filter((k) => k === "ServiceMonitor")).toHaveLength(2);
    expect(on.filter((k) => k === "NetworkPolicy")).toHaveLength(2);
  });

  it("leaves user and group to the platform when they are null (OpenShift), and stays non-root", () => {
    const unset = ["runAsUser", "runAsGroup", "fsGroup"].map((k) => `podSecurityContext.${k}=null`);
    for (const d of renderChart({ set: unset }).filter((m) => m.kind === "Deployment")) {
      expect(podSpec(d).securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    }
  });

  it("uses a digest instead of the tag when one is given", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    const api = findManifest(renderChart({ set: [`apiServer.image.digest=${digest}`] }), "Deployment", "api-server");
    expect(podSpec(api).containers[0]!.image).toBe(`ghcr.io/trailkeeper/api-server@${digest}`);
  });

  it("refuses leader-election timings that would let two leaders overlap", () => {
    const r = helmTemplateRaw({ set: ["operator.leaderElection.renewDeadlineSeconds=20"] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("renewDeadlineSeconds must be less than leaseDurationSeconds");
  });

  it("keeps Service names and label values within 63 characters for the longest release name (53)", () => {
    const manifests = renderChart({ releaseName: `r${"x".repeat(52)}` });
    for (const m of manifests.filter((x) => x.kind === "Service")) expect(m.metadata.name.length).toBeLessThanOrEqual(63);
    for (const m of manifests) for (const v of Object.values(m.metadata.labels ?? {})) expect(v.length).toBeLessThanOrEqual(63);
    const lease = podSpec(findManifest(manifests, "Deployment", "operator")).containers[0]!.env?.find((e) => e.name === "LEASE_NAME")?.value ?? "";
    expect(lease).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });
});
