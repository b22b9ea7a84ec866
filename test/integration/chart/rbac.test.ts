import { describe, expect, it } from "vitest";
import { allOnValues, renderChart, type KubeManifest, type RenderOptions } from "../../support/helm.ts";

/**
 * The operator may read and watch its custom resources, write their status, create (and patch) Events, use its
 * Lease, and get/list/watch Secrets and Namespaces. Nothing else, asserted rule by rule on the rendered chart.
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
const allowed = (leaseNamespace: string, leaseName: string, crScope: string): Grant[] => [
  ...crs.flatMap((resource) => ["get", "list", "watch"].map((verb) => ({ scope: crScope, group: "trailkeeper.dev", resource, verb, name: "*" }))),
  ...crs.flatMap((r) => ["update", "patch"].map((verb) => ({ scope: crScope, group: "trailkeeper.dev", resource: `${r}/status`, verb, name: "*" }))),
  ...["create", "patch"].map((verb) => ({ scope: crScope, group: "events.k8s.io", resource: "events", verb, name: "*" })),
  ...["get", "list", "watch"].map((verb) => ({ scope: crScope, group: "", resource: "secrets", verb, name: "*" })),
  ...["get", "list", "watch"].map((verb) => ({ scope: "cluster", group: "", resource: "namespaces", verb, name: "*" })),
  // A create request carries no name for RBAC to check, so creating Leases cannot be limited to one name.
  { scope: leaseNamespace, group: "coordination.k8s.io", resource: "leases", verb: "create", name: "*" },
  ...["get", "update"].map((verb) => ({ scope: leaseNamespace, group: "coordination.k8s.io", resource: "leases", verb, name: leaseName })),
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
  leaseName: string;
  crScope: string;
}
const cases: Case[] = [
  { name: "default values (all namespaces)", options: { namespace: "tk-system" }, namespace: "tk-system", operatorSa: "trailkeeper-operator", leaseName: "trailkeeper-operator", crScope: "cluster" },
  { name: "every option on (WATCH_NAMESPACE=tenants)", options: { namespace: "audit", valuesFiles: [allOnValues] }, namespace: "audit", operatorSa: "audit-operator", leaseName: "audit-leader", crScope: "tenants" },
];

describe.each(cases)("RBAC with $name", ({ options, namespace, operatorSa, leaseName, crScope }) => {
  const manifests = renderChart(options);
  const all = grants(manifests);

  it("binds roles only to the operator's ServiceAccount", () => {
    expect(new Set(all.map((g) => g.subject))).toEqual(new Set([`ServiceAccount:${namespace}:${operatorSa}`]));
  });

  it("grants exactly the operator's list: nothing beyond it, and all of it", () => {
    const expected = new Set(allowed(namespace, leaseName, crScope).map(key));
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
