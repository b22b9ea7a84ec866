import { describe, expect, it } from "vitest";
import { ConfigError } from "@trailkeeper/core/config.ts";
import { loadOperatorConfig } from "./config.ts";

describe("loadOperatorConfig", () => {
  it("applies client-go's leader election defaults and puts the Lease beside the pod", () => {
    const c = loadOperatorConfig({ POD_NAME: "op-0", POD_NAMESPACE: "trailkeeper-system" });
    expect(c).toMatchObject({
      WATCH_NAMESPACE: "",
      LEASE_NAME: "trailkeeper-operator",
      LEASE_NAMESPACE: "trailkeeper-system",
      LEASE_DURATION_SECONDS: 15,
      RENEW_DEADLINE_SECONDS: 10,
      RETRY_PERIOD_SECONDS: 2,
      METRICS_PORT: 8081,
      EGRESS_ALLOW_LOOPBACK: false,
    });
    expect(c.KUBECONFIG).toBeUndefined();
  });

  it("parses flags and fractional timings for fast tests", () => {
    const c = loadOperatorConfig({ EGRESS_ALLOW_LOOPBACK: "true", LEASE_DURATION_SECONDS: "3", RENEW_DEADLINE_SECONDS: "2", RETRY_PERIOD_SECONDS: "0.5" });
    expect(c.EGRESS_ALLOW_LOOPBACK).toBe(true);
    expect(c.RETRY_PERIOD_SECONDS).toBe(0.5);
  });

  it("lists every problem at once", () => {
    try {
      loadOperatorConfig({ WATCH_NAMESPACE: "Bad_NS", LEASE_DURATION_SECONDS: "5", RENEW_DEADLINE_SECONDS: "10", METRICS_PORT: "70000" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join("\n");
      expect(problems).toContain("WATCH_NAMESPACE");
      expect(problems).toContain("RENEW_DEADLINE_SECONDS");
      expect(problems).toContain("METRICS_PORT");
    }
  });
});
