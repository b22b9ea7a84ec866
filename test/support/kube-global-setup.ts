import type { TestProject } from "vitest/node";
import { startKubeApiServer, type KubeApiServer } from "./kube.ts";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfigPath: string;
  }
}

let server: KubeApiServer | undefined;

/**
 * One real kube-apiserver (with the CRDs applied) for the whole run; TRAILKEEPER_TEST_KUBECONFIG points the suite
 * at an existing cluster instead, e.g. kind. Test files isolate themselves by namespace.
 */
export async function setup(project: TestProject): Promise<void> {
  const existing = process.env.TRAILKEEPER_TEST_KUBECONFIG;
  if (existing) {
    project.provide("kubeconfigPath", existing);
    return;
  }
  server = await startKubeApiServer();
  project.provide("kubeconfigPath", server.kubeconfigPath);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
