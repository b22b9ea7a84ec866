import { describe, expect, it } from "vitest";
import { KubeError } from "../kube/types.ts";
import { Problem } from "../problem.ts";
import { distinctReplayValue, kubeProblem } from "./config-save.ts";

describe("distinctReplayValue", () => {
  it("keeps a new value, and respells a repeated one as the same instant or event", () => {
    expect(distinctReplayValue("2026-11-01T00:00:00Z", undefined)).toBe("2026-11-01T00:00:00Z");
    expect(distinctReplayValue("2026-11-01T00:00:00Z", "seq:4")).toBe("2026-11-01T00:00:00Z");
    const again = distinctReplayValue("2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z");
    expect(again).toBe("2026-11-01T00:00:00.0Z");
    expect(Date.parse(again)).toBe(Date.parse("2026-11-01T00:00:00Z"));
    expect(distinctReplayValue("2026-11-01T00:00:00.0+02:00", "2026-11-01T00:00:00.0+02:00")).toBe("2026-11-01T00:00:00.00+02:00");
    expect(distinctReplayValue("seq:12", "seq:12")).toBe("seq:012");
  });
});

describe("kubeProblem", () => {
  const problem = (err: unknown) => kubeProblem(err) as Problem;

  it("maps the Kubernetes API's answers to the client's problems", () => {
    expect([problem(new KubeError(409, "the object has been modified", "Conflict")).status, problem(new KubeError(409, "x")).code]).toEqual([409, "conflict"]);
    expect(problem(new KubeError(422, "spec: Invalid value", "Invalid")).code).toBe("invalid_request");
    expect(problem(new KubeError(403, "forbidden", "Forbidden")).code).toBe("kubernetes_forbidden");
    const down = problem(new KubeError(500, "etcd timeout"));
    expect([down.status, down.code, down.retryAfterSeconds]).toEqual([503, "kubernetes_unavailable", 5]);
    expect(problem(new TypeError("fetch failed")).code).toBe("kubernetes_unavailable");
  });

  it("passes a problem through", () => {
    const p = new Problem(404, "namespace_not_bound", "x");
    expect(kubeProblem(p)).toBe(p);
  });
});
