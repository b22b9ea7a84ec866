import { describe, expect, it, vi } from "vitest";
import { silentLogger } from "@trailkeeper/core/log.ts";
import { KubeApiError } from "../kube/errors.ts";
import { createOperatorMetrics } from "../metrics.ts";
import { Controller, type Reconciler } from "./controller.ts";

function controllerWith(reconcile: Reconciler["reconcile"], keys: string[] = []) {
  const metrics = createOperatorMetrics();
  const controller = new Controller({ kind: "Test", reconciler: { reconcile }, keys: () => keys, workers: 2, metrics, logger: silentLogger });
  const count = async (result: string) => (await metrics.reconciles.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
  return { controller, metrics, count };
}

describe("Controller", () => {
  it("reconciles every known key when a term starts, and nothing outside a term", async () => {
    const seen: string[] = [];
    const { controller } = controllerWith(async (key) => (seen.push(key), {}), ["ns/a", "ns/b"]);
    controller.enqueue("ns/ignored");
    const term = new AbortController();
    controller.startTerm(term.signal);
    await vi.waitFor(() => expect(seen.sort()).toEqual(["ns/a", "ns/b"]));
    await controller.stopTerm();
    expect(controller.running).toBe(false);
  });

  it("comes back after requeueAfter", async () => {
    let runs = 0;
    const { controller } = controllerWith(async () => (++runs === 1 ? { requeueAfterMs: 50 } : {}), ["ns/a"]);
    controller.startTerm(new AbortController().signal);
    await vi.waitFor(() => expect(runs).toBe(2));
    await controller.stopTerm();
  });

  it("retries failures with backoff and counts conflicts apart from errors", async () => {
    let runs = 0;
    const { controller, count } = controllerWith(async () => {
      runs++;
      if (runs === 1) throw new KubeApiError(409, "the object has been modified", "Conflict");
      if (runs === 2) throw new Error("boom");
      return {};
    }, ["ns/a"]);
    controller.startTerm(new AbortController().signal);
    await vi.waitFor(() => expect(runs).toBe(3), { timeout: 3000 });
    expect(await count("conflict")).toBe(1);
    expect(await count("error")).toBe(1);
    expect(await count("success")).toBe(1);
    await controller.stopTerm();
  });

  it("waits for reconciles in flight when the term ends, and counts them as cancelled", async () => {
    const term = new AbortController();
    const { controller, count } = controllerWith(
      (_key, signal) => new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")))),
      ["ns/a"],
    );
    controller.startTerm(term.signal);
    await new Promise((r) => setTimeout(r, 20));
    term.abort();
    await controller.stopTerm();
    expect(await count("cancelled")).toBe(1);
  });
});
