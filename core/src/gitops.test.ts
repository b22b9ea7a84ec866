import { describe, expect, it } from "vitest";
import { gitopsManagerOf } from "./gitops.ts";

describe("gitopsManagerOf", () => {
  it("names Argo CD's instance label and tracking annotation", () => {
    expect(gitopsManagerOf({ labels: { "argocd.argoproj.io/instance": "audit" } })).toEqual({ tool: "argocd", reason: "label argocd.argoproj.io/instance=audit" });
    expect(gitopsManagerOf({ annotations: { "argocd.argoproj.io/tracking-id": "audit:trailkeeper.dev/LogForwardingDestination:ns/siem" } }))
      .toEqual({ tool: "argocd", reason: "annotation argocd.argoproj.io/tracking-id=audit:trailkeeper.dev/LogForwardingDestination:ns/siem" });
  });

  it("names Flux's Kustomization and HelmRelease labels", () => {
    expect(gitopsManagerOf({ labels: { "kustomize.toolkit.fluxcd.io/name": "apps" } })).toEqual({ tool: "flux", reason: "label kustomize.toolkit.fluxcd.io/name=apps" });
    expect(gitopsManagerOf({ labels: { "helm.toolkit.fluxcd.io/name": "tk" } })?.tool).toBe("flux");
  });

  it("is null for objects without a marker, or with the marker as the other kind of metadata", () => {
    expect(gitopsManagerOf(undefined)).toBeNull();
    expect(gitopsManagerOf({ labels: { "app.kubernetes.io/managed-by": "Helm" } })).toBeNull();
    expect(gitopsManagerOf({ annotations: { "argocd.argoproj.io/instance": "x" } })).toBeNull();
  });
});
