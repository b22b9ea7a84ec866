import { spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import yaml from "js-yaml";
import { kubectlBinary, parseManifests, runHelm, type CommandResult, type KubeManifest } from "./helm.ts";
import { deleteTestNamespace, putSecret, type TestKube } from "./kube-client.ts";

/**
 * End-to-end helpers for the operator suite: kubectl and Helm against the suite's cluster (the harness or, through
 * TRAILKEEPER_TEST_KUBECONFIG, kind), Helm releases of charts/trailkeeper, and ServiceAccount identities.
 * kubectl and Helm are the binaries of scripts/ensure-helm.sh, never whatever is on PATH.
 */

/** `kubectl --kubeconfig <path> …`; never throws on a non-zero exit. */
export function kubectl(kubeconfigPath: string, args: string[], input?: string): CommandResult {
  const r = spawnSync(kubectlBinary(), ["--kubeconfig", kubeconfigPath, ...args], { encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  if (r.error !== undefined) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `kubectl`, throwing with its stderr when it fails. */
export function kubectlOk(kubeconfigPath: string, args: string[], input?: string): string {
  const r = kubectl(kubeconfigPath, args, input);
  if (r.status !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

/** `helm --kubeconfig <path> …` (Helm 4; its cache and config stay under .tools/helm/home). */
export function helm(kubeconfigPath: string, args: string[]): CommandResult {
  return runHelm([...args, "--kubeconfig", kubeconfigPath]);
}

/**
 * Helm's stderr without its warning about a kubeconfig file that others can read (kind writes them that way);
 * anything left is worth a look.
 */
export function helmStderr(r: CommandResult): string[] {
  return r.stderr.split("\n").filter((line) => line.trim() !== "" && !/^WARNING: Kubernetes configuration file is (group|world)-readable/.test(line));
}

export function helmOk(kubeconfigPath: string, args: string[]): string {
  const r = helm(kubeconfigPath, args);
  if (r.status !== 0) throw new Error(`helm ${args.join(" ")} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

export const toYamlStream = (manifests: KubeManifest[]): string => manifests.map((m) => `---\n${yaml.dump(m)}`).join("");

/** A release name unique to one test run; short enough for every derived object name. */
export const uniqueReleaseName = (prefix = "tk"): string => `${prefix}-${randomBytes(3).toString("hex")}`;

/** The chart's "<fullname>": the release name, or "<release>-trailkeeper" when it does not contain "trailkeeper". */
export const chartFullname = (release: string): string => (release.includes("trailkeeper") ? release : `${release}-trailkeeper`).slice(0, 46).replace(/-+$/, "");

/**
 * The three Secrets the chart requires (it never creates them), with their default names and keys: a database URL
 * (nothing needs to answer there, no pod runs against the harness), an admin token and an Ed25519 signing key.
 */
export async function createChartSecrets(kube: TestKube, namespace: string, release: string, databaseUrl = "postgres://trailkeeper:unused@postgres.invalid:5432/trailkeeper"): Promise<string[]> {
  const fullname = chartFullname(release);
  const signingKey = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const secrets: [string, Record<string, string>][] = [
    [`${fullname}-database`, { url: databaseUrl }],
    [`${fullname}-admin-token`, { token: randomBytes(32).toString("hex") }],
    [`${fullname}-signing-key`, { "signing-key.pem": signingKey }],
  ];
  for (const [name, values] of secrets) await putSecret(kube, namespace, name, values);
  return secrets.map(([name]) => name);
}

/** "Kind/name" of an object, e.g. "Deployment/tk-1a2b3c-trailkeeper-operator". */
export const objectRef = (m: KubeManifest): string => `${m.kind}/${m.metadata.name}`;

/** The objects Helm stored for a release (`helm get manifest`). */
export function releaseManifests(kubeconfigPath: string, release: string, namespace: string): KubeManifest[] {
  return parseManifests(helmOk(kubeconfigPath, ["get", "manifest", release, "--namespace", namespace]));
}

/** One object as stored, or undefined when the API server answers NotFound. */
export function getObject(kubeconfigPath: string, kind: string, name: string, namespace?: string): (KubeManifest & Record<string, unknown>) | undefined {
  const r = kubectl(kubeconfigPath, ["get", kind, name, "-o", "json", ...(namespace === undefined ? [] : ["--namespace", namespace])]);
  if (r.status === 0) return JSON.parse(r.stdout) as KubeManifest & Record<string, unknown>;
  if (/NotFound|not found/.test(r.stderr)) return undefined;
  throw new Error(`kubectl get ${kind} ${name} exited ${r.status}:\n${r.stderr}`);
}

/**
 * Deletes what a test may have left of a release even when the test failed half-way: the release itself, then its
 * cluster-scoped RBAC (unique names per release) by the chart's instance label. Namespaced objects go with
 * `deleteE2eNamespace`.
 */
export function removeRelease(kubeconfigPath: string, release: string, namespace: string): void {
  helm(kubeconfigPath, ["uninstall", release, "--namespace", namespace, "--ignore-not-found"]);
  kubectl(kubeconfigPath, ["delete", "clusterrolebindings,clusterroles", "-l", `app.kubernetes.io/instance=${release}`, "--ignore-not-found", "--wait=false"]);
}

/** Namespaced kinds the chart or the RBAC tests create, beyond those `deleteTestNamespace` removes. */
const chartKinds = "deployments.apps,services,serviceaccounts,roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io,poddisruptionbudgets.policy,networkpolicies.networking.k8s.io,configmaps";

/**
 * `deleteTestNamespace` plus the workload, Service and RBAC kinds. Without a namespace controller (the harness) a
 * namespace's contents are never deleted for it, so every kind is deleted explicitly.
 */
export async function deleteE2eNamespace(kube: TestKube, namespace: string): Promise<void> {
  kubectl(kube.kubeconfigPath, ["delete", chartKinds, "--all", "--namespace", namespace, "--ignore-not-found", "--wait=false"]);
  await deleteTestNamespace(kube, namespace);
}

/** The API server URL and CA of a kubeconfig's current context, whatever form the CA takes there. */
function currentCluster(kubeconfigPath: string): Record<string, unknown> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error(`${kubeconfigPath} has no current cluster`);
  return {
    server: cluster.server,
    ...(cluster.caData === undefined ? {} : { "certificate-authority-data": cluster.caData }),
    ...(cluster.caFile === undefined ? {} : { "certificate-authority": cluster.caFile }),
    ...(cluster.tlsServerName === undefined ? {} : { "tls-server-name": cluster.tlsServerName }),
    ...(cluster.skipTLSVerify ? { "insecure-skip-tls-verify": true } : {}),
  };
}

/**
 * A kubeconfig that authenticates as a ServiceAccount with a TokenRequest token (`kubectl create token`), the
 * credentials a pod of that ServiceAccount gets: the same server and CA as the admin kubeconfig, no client
 * certificate. The ServiceAccount must exist (no controller creates any on the harness).
 */
export function serviceAccountKubeconfig(adminKubeconfigPath: string, namespace: string, serviceAccount: string, file: string): string {
  const token = kubectlOk(adminKubeconfigPath, ["create", "token", serviceAccount, "--namespace", namespace, "--duration=1h"]).trim();
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "e2e", cluster: currentCluster(adminKubeconfigPath) }],
    users: [{ name: serviceAccount, user: { token } }],
    contexts: [{ name: serviceAccount, context: { cluster: "e2e", user: serviceAccount, namespace } }],
    "current-context": serviceAccount,
  };
  writeFileSync(file, yaml.dump(config), { mode: 0o600 });
  return file;
}

/** `kubectl auth whoami`: the user name the API server authenticated. */
export function whoami(kubeconfigPath: string): string {
  return kubectlOk(kubeconfigPath, ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]).trim();
}

/**
 * `kubectl auth can-i` as the kubeconfig's own identity (a SelfSubjectAccessReview). `resource` may name an object
 * (`leases.coordination.k8s.io/NAME`); a subresource is given as `{ subresource: "status" }`.
 */
export function canI(kubeconfigPath: string, verb: string, resource: string, namespace?: string, options: { subresource?: string } = {}): boolean {
  const args = ["auth", "can-i", verb, resource, ...(namespace === undefined ? [] : ["--namespace", namespace])];
  if (options.subresource !== undefined) args.push(`--subresource=${options.subresource}`);
  return kubectl(kubeconfigPath, args).stdout.trim() === "yes";
}

/**
 * The environment the chart's operator Deployment gives its container, as a process would see it: literal values as
 * they are, the downward API's POD_NAME/POD_NAMESPACE from `pod`, and values from Secrets left out (named in
 * `fromSecrets`).
 */
export function deploymentEnv(deployment: KubeManifest, pod: { name: string; namespace: string }): { env: Record<string, string>; fromSecrets: string[] } {
  interface EnvVar {
    name: string;
    value?: string;
    valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: unknown };
  }
  const containers = (deployment as unknown as { spec: { template: { spec: { containers: { env?: EnvVar[] }[] } } } }).spec.template.spec.containers;
  const env: Record<string, string> = {};
  const fromSecrets: string[] = [];
  for (const v of containers[0]?.env ?? []) {
    if (v.value !== undefined) env[v.name] = v.value;
    else if (v.valueFrom?.fieldRef?.fieldPath === "metadata.name") env[v.name] = pod.name;
    else if (v.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") env[v.name] = pod.namespace;
    else if (v.valueFrom?.secretKeyRef !== undefined) fromSecrets.push(v.name);
    else throw new Error(`env ${v.name} of ${deployment.metadata.name}: unexpected source ${JSON.stringify(v.valueFrom)}`);
  }
  return { env, fromSecrets };
}
