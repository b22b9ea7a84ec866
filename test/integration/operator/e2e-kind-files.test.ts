import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { helmLint, renderChart, repoRoot } from "../../support/helm.ts";
import { createTestNamespace, deleteTestNamespace, testKube } from "../../support/kube-client.ts";
import { kubectl } from "../../support/kube-e2e.ts";

/**
 * `make e2e-kind` needs a container engine, which CI machines may not have; these checks keep its files from
 * rotting meanwhile: the manifests it applies are valid for a real API server, its chart values pass the chart's
 * schema and render what run.sh relies on, and the script parses.
 */
const kubeconfigPath = inject("kubeconfigPath");
const kube = testKube(kubeconfigPath);
const dir = path.join(repoRoot, "test/e2e-kind");
let namespace: string;

beforeAll(async () => {
  namespace = await createTestNamespace(kube, "op-kind-files");
});

afterAll(async () => {
  if (namespace) await deleteTestNamespace(kube, namespace);
});

/** The manifest as run.sh applies it: placeholders replaced. */
const manifest = (file: string) =>
  readFileSync(path.join(dir, file), "utf8").replace("image: POSTGRES_IMAGE", "image: postgres:17").replace("image: OPERATOR_IMAGE", "image: ghcr.io/trailkeeper/operator:0.1.0");

describe("the kind path's files", () => {
  it.each(["postgres.yaml", "webhook-sink.yaml"])("%s is accepted by the API server (strict field validation, dry run)", (file) => {
    const r = kubectl(kubeconfigPath, ["create", "--dry-run=server", "--validate=strict", "--namespace", namespace, "-o", "name", "-f", "-"], manifest(file));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(2);
  });

  it("values.yaml passes the chart's schema and keeps the cluster's operator in its own namespace", () => {
    const valuesFiles = [path.join(dir, "values.yaml")];
    const set = ["apiServer.image.pullPolicy=Never", "operator.image.pullPolicy=Never", "operator.image.tag=e2e"];
    const lint = helmLint({ valuesFiles, set });
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
    const manifests = renderChart({ releaseName: "trailkeeper", namespace: "trailkeeper-system", valuesFiles, set });
    const names = manifests.map((m) => `${m.kind}/${m.metadata.name}`);
    // run.sh uses these names.
    expect(names).toEqual(expect.arrayContaining(["Deployment/trailkeeper-api-server", "Deployment/trailkeeper-operator", "Service/trailkeeper-api-server"]));
    const operator = manifests.find((m) => m.kind === "Deployment" && m.metadata.name === "trailkeeper-operator") as unknown as {
      spec: { template: { spec: { containers: { image: string; imagePullPolicy: string; env: { name: string; value?: string }[] }[] } } };
    };
    const container = operator.spec.template.spec.containers[0]!;
    expect(container.env.find((e) => e.name === "WATCH_NAMESPACE")?.value).toBe("trailkeeper-system");
    expect(container.image).toBe("ghcr.io/trailkeeper/operator:e2e");
    expect(container.imagePullPolicy).toBe("Never");
    const service = manifests.find((m) => m.kind === "Service" && m.metadata.name === "trailkeeper-api-server") as unknown as { spec: { ports: { name: string }[] } };
    expect(service.spec.ports.map((p) => p.name)).toContain("http");
  });

  it("run.sh is valid bash and starts with strict mode", () => {
    const script = path.join(dir, "run.sh");
    const r = spawnSync("bash", ["-n", script], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(readFileSync(script, "utf8")).toContain("\nset -euo pipefail\n");
  });
});
