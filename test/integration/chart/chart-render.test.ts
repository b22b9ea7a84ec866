import { describe, expect, it } from "vitest";
import { apiServerConfigSchema } from "../../../api-server/src/config.ts";
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

  it("mounts a service account token into the operator, and into the API server only with kubernetesAccess", () => {
    const api = findManifest(deployments, "Deployment", "api-server");
    const operator = findManifest(deployments, "Deployment", "operator");
    expect(podSpec(api).automountServiceAccountToken).toBe(valuesFiles.includes(allOnValues));
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
    expect(leaseName).toMatch(/^[a-z0-9-]+$/);
    // The leader Lease and one forwarding member Lease per replica, named after its pod: no resourceNames can name them.
    const leaseRole = manifests.find((m) => m.kind === "Role" && m.metadata.name.endsWith("-leader-election")) as { rules: { resources: string[]; verbs: string[]; resourceNames?: string[] }[] } | undefined;
    expect(leaseRole?.rules).toEqual([{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create", "get", "list", "update", "delete"] }]);
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

  it("limits the API server to two malloc arenas, or leaves glibc's default when the value is null", () => {
    const arenas = (set: string[]) => envOf(podSpec(findManifest(renderChart({ set }), "Deployment", "api-server")).containers[0]!, "MALLOC_ARENA_MAX");
    expect(arenas([])?.value).toBe("2");
    expect(arenas(["apiServer.mallocArenaMax=4"])?.value).toBe("4");
    expect(arenas(["apiServer.mallocArenaMax=null"])).toBeUndefined();
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

describe("API server settings", () => {
  const placeholders: Record<string, string> = { DATABASE_URL: "postgres://db.example/trailkeeper", DATABASE_READ_URL: "postgres://replica.db.example/trailkeeper", TRAILKEEPER_ADMIN_TOKEN: "t".repeat(32) };
  /** The API server container's environment as the server would read it (Secrets replaced by placeholders). */
  function serverEnv(options: Parameters<typeof renderChart>[0] = {}): Record<string, string> {
    const c = podSpec(findManifest(renderChart(options), "Deployment", "api-server")).containers[0]!;
    return Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? placeholders[e.name] ?? ""]));
  }
  /** Settings the chart leaves to the server on purpose: embedded mode only, and where the image puts the console. */
  // KUBECONFIG: in a pod the client uses the mounted ServiceAccount token instead.
  const leftToServer = ["TRAILKEEPER_DATA_DIR", "TRAILKEEPER_CONSOLE_DIR", "KUBECONFIG"];

  it("renders every setting the server reads with the server's own defaults", () => {
    const env = serverEnv();
    const fromChart = apiServerConfigSchema.parse(env);
    const { DATABASE_READ_URL: _replica, ...required } = placeholders;
    const defaults = apiServerConfigSchema.parse({ ...required, TRAILKEEPER_SIGNING_KEY_FILE: env.TRAILKEEPER_SIGNING_KEY_FILE });
    expect(fromChart).toEqual(defaults);
    // Left unset, the reserve defaults to a quarter of the pool in the server.
    expect(env).not.toHaveProperty("TRAILKEEPER_DB_RESERVED_FOR_INGEST");
  });

  it("exposes each of the server's settings as a value (a new setting needs one, or a reason here)", () => {
    const rendered = Object.keys(serverEnv({ valuesFiles: [allOnValues] }));
    const settings = Object.keys(apiServerConfigSchema.shape).filter((k) => !leftToServer.includes(k));
    expect(settings.filter((k) => !rendered.includes(k))).toEqual([]);
  });

  it("passes every value through as the server parses it", () => {
    const config = apiServerConfigSchema.parse(serverEnv({ valuesFiles: [allOnValues] }));
    expect(config).toMatchObject({
      TRAILKEEPER_DB_ACQUIRE_TIMEOUT_MS: 2500, TRAILKEEPER_DB_STATEMENT_TIMEOUT_MS: 0, TRAILKEEPER_DB_IDLE_IN_TX_TIMEOUT_MS: 30_000,
      TRAILKEEPER_HTTP_HEADERS_TIMEOUT_MS: 5000, TRAILKEEPER_HTTP_REQUEST_TIMEOUT_MS: 120_000, TRAILKEEPER_HTTP_KEEP_ALIVE_TIMEOUT_MS: 65_000,
      TRAILKEEPER_SHUTDOWN_TIMEOUT_MS: 40_000,
      TRAILKEEPER_EXPORTS_PER_TENANT: 2, TRAILKEEPER_DB_RESERVED_FOR_INGEST: 4, TRAILKEEPER_EXPORT_QUEUE_TIMEOUT_MS: 0,
      TRAILKEEPER_EXPORT_STALL_TIMEOUT_MS: 60_000, TRAILKEEPER_EXPORT_STATEMENT_TIMEOUT_MS: 7_200_000,
      TRAILKEEPER_PUBLIC_URL: "https://audit.example.com",
      TRAILKEEPER_CONSOLE_SESSION_TTL: 5400,
      TRAILKEEPER_CONSOLE_SECURE_COOKIE: "true",
      TRAILKEEPER_CONSOLE_FRAME_ANCESTORS: ["https://app.example.com", "https://*.example.org"],
      TRAILKEEPER_KUBERNETES_ACCESS: true,
      TRAILKEEPER_KUBERNETES_NAMESPACES: ["tenants"],
      TRAILKEEPER_READ_MAX_LAG_MS: 10_000, TRAILKEEPER_READ_WAIT_MS: 500,
      TRAILKEEPER_CONFIG_TESTS_PER_MINUTE: 20, TRAILKEEPER_CONFIG_TEST_BURST: 5,
      // The operator's egress values: one policy for its checks and the server's tests before saving.
      EGRESS_ALLOW_LOOPBACK: true, EGRESS_ALLOW_LINK_LOCAL: true, EGRESS_ALLOW_CLOUD_METADATA: true,
      DATABASE_READ_URL: "postgres://replica.db.example/trailkeeper",
    });
  });

  it("accepts secureCookie as a string or a boolean", () => {
    expect(serverEnv({ set: ["apiServer.console.secureCookie=false"] }).TRAILKEEPER_CONSOLE_SECURE_COOKIE).toBe("false");
    expect(serverEnv({ set: ["apiServer.console.secureCookie=auto"] }).TRAILKEEPER_CONSOLE_SECURE_COOKIE).toBe("auto");
  });

  it("drains for less than the grace period: 5 s less by default, half of a short one", () => {
    expect(serverEnv({ set: ["apiServer.terminationGracePeriodSeconds=60"] }).TRAILKEEPER_SHUTDOWN_TIMEOUT_MS).toBe("55000");
    expect(serverEnv({ set: ["apiServer.terminationGracePeriodSeconds=8"] }).TRAILKEEPER_SHUTDOWN_TIMEOUT_MS).toBe("4000");
    const late = helmTemplateRaw({ set: ["apiServer.shutdownTimeoutMs=30000"] });
    expect(late.status).not.toBe(0);
    expect(late.stderr).toContain("apiServer.shutdownTimeoutMs must be less than terminationGracePeriodSeconds");
  });

  it("refuses combinations the server would refuse to start with", () => {
    const headers = helmTemplateRaw({ set: ["apiServer.http.headersTimeoutMs=70000"] });
    expect(headers.status).not.toBe(0);
    expect(headers.stderr).toContain("apiServer.http.headersTimeoutMs must not exceed requestTimeoutMs");
    const reserve = helmTemplateRaw({ set: ["apiServer.exports.reservedForIngest=20"] });
    expect(reserve.status).not.toBe(0);
    expect(reserve.stderr).toContain("apiServer.exports.reservedForIngest must be below databasePoolSize");
  });

  it.each([
    ["apiServer.publicUrl=ftp://audit.example.com", "/apiServer/publicUrl"],
    ["apiServer.console.sessionTtl=8 hours", "/apiServer/console/sessionTtl"],
    ["apiServer.console.secureCookie=maybe", "/apiServer/console/secureCookie"],
    ["apiServer.console.frameAncestors[0]='none'", "/apiServer/console/frameAncestors/0"],
    ["apiServer.http.keepAliveTimeoutMs=0", "/apiServer/http/keepAliveTimeoutMs"],
    ["apiServer.databaseTimeouts.acquireMs=-1", "/apiServer/databaseTimeouts/acquireMs"],
  ])("rejects %s in the schema", (set, where) => {
    const r = helmTemplateRaw({ set: [set] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(where);
  });
});
