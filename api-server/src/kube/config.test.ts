import { describe, expect, it } from "vitest";
import { loadApiServerConfig } from "../config.ts";
import { kubernetesAccessOptions } from "./config.ts";

describe("Kubernetes access settings", () => {
  it("are off by default, so the server never loads a kubeconfig", () => {
    const c = loadApiServerConfig({});
    expect([c.TRAILKEEPER_KUBERNETES_ACCESS, c.TRAILKEEPER_KUBERNETES_NAMESPACES]).toEqual([false, []]);
    expect(kubernetesAccessOptions(c)).toBeUndefined();
  });

  it("take a list of namespaces separated by spaces or commas, and a kubeconfig", () => {
    const c = loadApiServerConfig({ TRAILKEEPER_KUBERNETES_ACCESS: "true", TRAILKEEPER_KUBERNETES_NAMESPACES: "team-a, team-b  team-c", KUBECONFIG: "/tmp/kc" });
    expect(kubernetesAccessOptions(c)).toEqual({ kubeconfigPath: "/tmp/kc", namespaces: ["team-a", "team-b", "team-c"] });
  });

  it("refuse what is not a flag or a namespace name", () => {
    expect(() => loadApiServerConfig({ TRAILKEEPER_KUBERNETES_ACCESS: "maybe", TRAILKEEPER_KUBERNETES_NAMESPACES: "Team_A" })).toThrow(/TRAILKEEPER_KUBERNETES_ACCESS[\s\S]*TRAILKEEPER_KUBERNETES_NAMESPACES/);
  });
});
