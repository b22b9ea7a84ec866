/** The GitOps tool that owns a Kubernetes object, and the label or annotation that says so. */
export interface GitopsManager {
  tool: "argocd" | "flux";
  /** e.g. `label argocd.argoproj.io/instance=audit`. */
  reason: string;
}

interface Marker {
  tool: GitopsManager["tool"];
  where: "label" | "annotation";
  key: string;
}

/**
 * What Argo CD and Flux put on the objects they apply. A change made beside them would be reverted at their next
 * sync, so such objects are shown read-only and never written by the API server.
 */
export const gitopsMarkers: readonly Marker[] = [
  { tool: "argocd", where: "label", key: "argocd.argoproj.io/instance" },
  { tool: "argocd", where: "annotation", key: "argocd.argoproj.io/tracking-id" },
  { tool: "flux", where: "label", key: "kustomize.toolkit.fluxcd.io/name" },
  { tool: "flux", where: "label", key: "helm.toolkit.fluxcd.io/name" },
];

export interface LabelledMeta {
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
}

/** The first GitOps marker on an object, or null when none manages it. */
export function gitopsManagerOf(meta: LabelledMeta | undefined): GitopsManager | null {
  for (const m of gitopsMarkers) {
    const value = (m.where === "label" ? meta?.labels : meta?.annotations)?.[m.key];
    if (value !== undefined) return { tool: m.tool, reason: `${m.where} ${m.key}=${value.slice(0, 200)}` };
  }
  return null;
}
