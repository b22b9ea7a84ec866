import { describe, expect, it } from "vitest";
import { allOnValues, renderChart, type KubeManifest, type RenderOptions } from "../../support/helm.ts";

/**
 * The operator may read and watch its custom resources, write their status, create (and patch) Events, use the
 * Leases of its release namespace (leader and forwarding members), and get/list/watch Secrets and Namespaces. Nothing else, asserted rule by rule on the rendered chart.
 */
interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
interface Grant {
  scope: string;
  group: string;
  resource: string;
  verb: string;
  name: string;
}

const crs = ["logforwardingdestinations", "recordingstorages"];
const allowed = (leaseNamespace: string, crScope: string): Grant[] => [
  ...crs.flatMap((resource) => ["get", "list", "watch"].map((verb) => ({ scope: crScope, group: "trailkeeper.dev", resource, verb, name: "*" }))),
  ...crs.flatMap((r) => ["update", "patch"].map((verb) => ({ scope: crScope, group: "trailkeeper.dev", resource: `${r}/status`, verb, name: "*" }))),
  ...["create", "patch"].map((verb) => ({ scope: crScope, group: "events.k8s.io", resource: "events", verb, name: "*" })),
  ...["get", "list", "watch"].map((verb) => ({ scope: crScope, group: "", resource: "secrets", verb, name: "*" })),
  ...["get", "list", "watch"].map((verb) => ({ scope: "cluster", group: "", resource: "namespaces", verb, name: "*" })),
  // Member Leases are named after pods, unknown to the chart: no name limit, but only in the release namespace.
  ...["create", "get", "list", "update", "delete"].map((verb) => ({ scope: leaseNamespace, group: "coordination.k8s.io", resource: "leases", verb, name: "*" })),
];

const key = (g: Grant) => `${g.scope} ${g.group}/${g.resource} ${g.verb} ${g.name}`;

/** Every (scope, group, resource, verb, name) the rendered roles grant to any subject, through their bindings. */
function grants(manifests: KubeManifest[]): { subject: string; grant: Grant }[] {
  const roles = new Map(manifests.filter((m) => m.kind === "Role" || m.kind === "ClusterRole").map((m) => [`${m.kind}/${m.metadata.namespace ?? ""}/${m.metadata.name}`, m]));
  const out: { subject: string; grant: Grant }[] = [];
  for (const binding of manifests.filter((m) => m.kind === "RoleBinding" || m.kind === "ClusterRoleBinding")) {
    const b = binding as KubeManifest & { roleRef: { kind: string; name: string }; subjects: { kind: string; name: string; namespace?: string }[] };
    const roleNamespace = b.roleRef.kind === "Role" ? (b.metadata.namespace ?? "") : "";
    const role = roles.get(`${b.roleRef.kind}/${roleNamespace}/${b.roleRef.name}`);
    if (role === undefined) throw new Error(`${b.kind} ${b.metadata.name} refers to ${b.roleRef.kind} ${b.roleRef.name}, which the chart does not render`);
    const scope = b.kind === "ClusterRoleBinding" ? "cluster" : (b.metadata.namespace ?? "");
    for (const subject of b.subjects) {
      for (const rule of (role as { rules?: PolicyRule[] }).rules ?? []) {
        expect(rule.nonResourceURLs, "non-resource URLs").toBeUndefined();
        for (const group of rule.apiGroups ?? []) {
          for (const resource of rule.resources ?? []) {
            for (const verb of rule.verbs) {
              for (const name of rule.resourceNames ?? ["*"]) {
                out.push({ subject: `${subject.kind}:${subject.namespace ?? ""}:${subject.name}`, grant: { scope, group, resource, verb, name } });
              }
            }
          }
        }
      }
    }
  }
  return out;
}

interface Case {
  name: string;
  options: RenderOptions;
  namespace: string;
  operatorSa: string;
  /** Set when the values turn on apiServer.kubernetesAccess, which binds roles to the API server's account too. */
  apiServerSa?: string;
  crScope: string;
}
const cases: Case[] = [
  { name: "default values (all namespaces)", options: { namespace: "tk-system" }, namespace: "tk-system", operatorSa: "trailkeeper-operator", crScope: "cluster" },
  { name: "every option on (WATCH_NAMESPACE=tenants)", options: { namespace: "audit", valuesFiles: [allOnValues] }, namespace: "audit", operatorSa: "audit-operator", apiServerSa: "audit-api", crScope: "tenants" },
];

describe.each(cases)("RBAC with $name", ({ options, namespace, operatorSa, apiServerSa, crScope }) => {
  const manifests = renderChart(options);
  const operatorSubject = `ServiceAccount:${namespace}:${operatorSa}`;
  const everything = grants(manifests);
  const all = everything.filter((g) => g.subject === operatorSubject);

  it("binds roles only to the operator's ServiceAccount, and to the API server's when it saves configuration", () => {
    const apiServer = apiServerSa === undefined ? [] : [`ServiceAccount:${namespace}:${apiServerSa}`];
    expect(new Set(everything.map((g) => g.subject))).toEqual(new Set([operatorSubject, ...apiServer]));
  });

  it("grants exactly the operator's list: nothing beyond it, and all of it", () => {
    const expected = new Set(allowed(namespace, crScope).map(key));
    const granted = new Set(all.map((g) => key(g.grant)));
    expect([...granted].filter((k) => !expected.has(k)).sort()).toEqual([]);
    expect([...expected].filter((k) => !granted.has(k)).sort()).toEqual([]);
  });

  it("uses no wildcards and no aggregation", () => {
    for (const role of manifests.filter((m) => m.kind === "Role" || m.kind === "ClusterRole")) {
      expect(role.aggregationRule).toBeUndefined();
      for (const rule of (role.rules ?? []) as PolicyRule[]) {
        for (const v of [...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...rule.verbs]) expect(v).not.toContain("*");
      }
    }
  });

  it("writes nothing but custom resource status, Events and its Lease", () => {
    const readOnly = new Set(["get", "list", "watch"]);
    const writes = all.filter((g) => !readOnly.has(g.grant.verb)).map((g) => `${g.grant.group}/${g.grant.resource}`);
    expect(new Set(writes)).toEqual(new Set(["trailkeeper.dev/logforwardingdestinations/status", "trailkeeper.dev/recordingstorages/status", "events.k8s.io/events", "coordination.k8s.io/leases"]));
  });
});

/**
 * apiServer.kubernetesAccess: the API server may read Namespaces, write the two custom resources, and create, get
 * and update Secrets (never list, watch or delete them); the ValidatingAdmissionPolicy limits those Secret writes to
 * the ones it labels, for its ServiceAccount only.
 */
const apiServerAllowed = (scope: string): Grant[] => [
  ...["get", "list", "watch"].map((verb) => ({ scope: "cluster", group: "", resource: "namespaces", verb, name: "*" })),
  ...crs.flatMap((resource) => ["get", "list", "watch", "create", "update", "patch"].map((verb) => ({ scope, group: "trailkeeper.dev", resource, verb, name: "*" }))),
  ...["create", "patch"].map((verb) => ({ scope, group: "", resource: "secrets", verb, name: "*" })),
];

const apiServerCases = [
  { name: "kubernetesAccess on, every namespace", options: { namespace: "tk-system", set: ["apiServer.kubernetesAccess.enabled=true"] }, subject: "ServiceAccount:tk-system:trailkeeper-api-server", scopes: ["cluster"] },
  { name: "kubernetesAccess on, two namespaces", options: { namespace: "tk-system", set: ["apiServer.kubernetesAccess.enabled=true", "apiServer.kubernetesAccess.namespaces={team-a,team-b}"] }, subject: "ServiceAccount:tk-system:trailkeeper-api-server", scopes: ["team-a", "team-b"] },
  { name: "every option on", options: { namespace: "audit", valuesFiles: [allOnValues] }, subject: "ServiceAccount:audit:audit-api", scopes: ["tenants"] },
];

describe.each(apiServerCases)("API server RBAC with $name", ({ options, subject, scopes }) => {
  const manifests = renderChart(options);
  const granted = grants(manifests).filter((g) => g.subject === subject).map((g) => key(g.grant));

  it("grants exactly what Save needs, in the namespaces chosen", () => {
    const expected = [...new Set(scopes.flatMap((s) => apiServerAllowed(s)).map(key))].sort();
    expect([...new Set(granted)].sort()).toEqual(expected);
  });

  it("mounts the token and sets the server's settings", () => {
    const deployment = manifests.find((m) => m.kind === "Deployment" && m.metadata.name.endsWith("api-server")) as KubeManifest & { spec: { template: { spec: { automountServiceAccountToken: boolean; containers: { env: { name: string; value?: string }[] }[] } } } };
    expect(deployment.spec.template.spec.automountServiceAccountToken).toBe(true);
    const env = Object.fromEntries(deployment.spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ TRAILKEEPER_KUBERNETES_ACCESS: "true", TRAILKEEPER_KUBERNETES_NAMESPACES: scopes[0] === "cluster" ? "" : scopes.join(" ") });
  });

  it("limits the ServiceAccount's Secret writes to labelled Secrets with a ValidatingAdmissionPolicy bound to deny", () => {
    const policy = manifests.find((m) => m.kind === "ValidatingAdmissionPolicy") as KubeManifest & { spec: { matchConditions: { expression: string }[]; validations: { expression: string }[]; matchConstraints: { resourceRules: { operations: string[]; resources: string[] }[] } } };
    const binding = manifests.find((m) => m.kind === "ValidatingAdmissionPolicyBinding") as KubeManifest & { spec: { policyName: string; validationActions: string[] } };
    const [, ns, sa] = subject.split(":");
    expect(policy.spec.matchConditions[0]!.expression).toBe(`request.userInfo.username == 'system:serviceaccount:${ns}:${sa}'`);
    expect(policy.spec.matchConstraints.resourceRules).toEqual([expect.objectContaining({ resources: ["secrets"], operations: ["CREATE", "UPDATE", "DELETE"] })]);
    expect(policy.spec.validations.map((v) => v.expression).join(" ")).toContain("'trailkeeper-api-server'");
    expect(binding.spec).toEqual({ policyName: policy.metadata.name, validationActions: ["Deny"] });
  });
});

it("renders no API server RBAC, policy or token by default", () => {
  const manifests = renderChart({ namespace: "tk-system" });
  expect(manifests.filter((m) => m.metadata.name.includes("api-server") && /Role|Admission/.test(m.kind))).toEqual([]);
  const deployment = manifests.find((m) => m.kind === "Deployment" && m.metadata.name.endsWith("api-server")) as KubeManifest & { spec: { template: { spec: { automountServiceAccountToken: boolean } } } };
  expect(deployment.spec.template.spec.automountServiceAccountToken).toBe(false);
});
