import { z } from "zod";
import type { ConfigCluster } from "./types.ts";

const namespaceName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Settings of Save through the Kubernetes API (docs/api.md "Save"); merged into the API server's config schema. */
export const kubernetesAccessShape = {
  TRAILKEEPER_KUBERNETES_ACCESS: z.stringbool().default(false),
  /** Space- or comma-separated namespaces the server may write in; empty: every namespace bound to a tenant. */
  TRAILKEEPER_KUBERNETES_NAMESPACES: z
    .string()
    .default("")
    .transform((s) => s.split(/[\s,]+/).filter(Boolean))
    .refine((list) => list.every((n) => n.length <= 63 && namespaceName.test(n)), { message: "must list namespace names separated by spaces or commas" }),
  /** A kubeconfig file; unset: the pod's in-cluster ServiceAccount. */
  KUBECONFIG: z.string().min(1).optional(),
};

export interface KubernetesAccessOptions {
  /** Path of a kubeconfig file; undefined uses the in-cluster ServiceAccount. */
  kubeconfigPath: string | undefined;
  /** The namespaces writes are limited to; empty: any namespace bound to the caller's tenant. */
  namespaces: readonly string[];
}

interface Env {
  TRAILKEEPER_KUBERNETES_ACCESS: boolean;
  TRAILKEEPER_KUBERNETES_NAMESPACES: string[];
  KUBECONFIG?: string | undefined;
}

/** Undefined when Save through Kubernetes is off (the default). */
export function kubernetesAccessOptions(config: Env): KubernetesAccessOptions | undefined {
  if (!config.TRAILKEEPER_KUBERNETES_ACCESS) return undefined;
  return { kubeconfigPath: config.KUBECONFIG, namespaces: config.TRAILKEEPER_KUBERNETES_NAMESPACES };
}

/**
 * The cluster client and namespace limit the app is given, or undefined when Save through Kubernetes is off. The
 * client library is loaded only then: it would add about 90 MiB to every API server that never saves.
 */
export async function kubernetesAccess(config: Env): Promise<{ cluster: ConfigCluster; namespaces: readonly string[] } | undefined> {
  const options = kubernetesAccessOptions(config);
  if (options === undefined) return undefined;
  const { createConfigCluster } = await import("./cluster.ts");
  return { cluster: createConfigCluster(options.kubeconfigPath), namespaces: options.namespaces };
}
