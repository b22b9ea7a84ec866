import { describe, expect, it } from "vitest";
import { load, loadAll } from "js-yaml";
import { manifestYaml, toYaml } from "./manifest.ts";

describe("manifest YAML", () => {
  it("round-trips values that a plain scalar would misread", () => {
    const value = { a: "true", b: "123", c: "x: y", d: "-lead", e: ["one", 2, false], f: {}, g: "line\nbreak", h: "ünïcode", i: "https://x.example/a?b=c#d" };
    expect(load(toYaml(value))).toEqual(value);
  });

  it("renders the Secret before the resource that references it", () => {
    const text = manifestYaml("LogForwardingDestination", "acme", "siem", { webhook: { url: "https://siem.example.com" } }, { "siem-credentials": { signingSecret: "whsec_x" } });
    expect(loadAll(text)).toEqual([
      { apiVersion: "v1", kind: "Secret", metadata: { name: "siem-credentials", namespace: "acme" }, type: "Opaque", stringData: { signingSecret: "whsec_x" } },
      { apiVersion: "trailkeeper.dev/v1alpha1", kind: "LogForwardingDestination", metadata: { name: "siem", namespace: "acme" }, spec: { webhook: { url: "https://siem.example.com" } } },
    ]);
  });
});
