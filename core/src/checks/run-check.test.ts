import { describe, expect, it } from "vitest";
import { EgressDeniedError } from "../net/egress.ts";
import { MissingSecretError } from "../secrets.ts";
import { CheckFailure, maxCheckMessageLength, succeeded } from "./check-result.ts";
import { runCheck } from "./run-check.ts";

describe("runCheck", () => {
  it("measures latency with the injected clock", async () => {
    let t = 1000;
    const result = await runCheck(async () => ((t += 42), succeeded("ok")), { timeoutMs: 1000, now: () => t });
    expect(result).toEqual({ success: true, reason: "Succeeded", message: "ok", latencyMs: 42 });
  });

  it("ends a check that ignores its signal at the deadline", async () => {
    const result = await runCheck(() => new Promise(() => {}), { timeoutMs: 50 });
    expect(result).toMatchObject({ success: false, reason: "Timeout", message: "no answer within 50 ms" });
  });

  it("reports cancellation from outside as Cancelled", async () => {
    const controller = new AbortController();
    const pending = runCheck(() => new Promise(() => {}), { timeoutMs: 5000, signal: controller.signal });
    controller.abort();
    await expect(pending).resolves.toMatchObject({ reason: "Cancelled" });
  });

  it("starts nothing once cancelled, and a check failing after its cancellation is no unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const ended = new AbortController();
      ended.abort(new Error("leadership ended (shutdown)"));
      let started = 0;
      const before = await runCheck(async (signal) => {
        started += 1;
        throw signal.reason;
      }, { timeoutMs: 1000, signal: ended.signal });
      expect(started).toBe(0);
      expect(before.success).toBe(false);
      // Cancelled while running: the check itself rejects later, with the same reason (as undici does).
      const term = new AbortController();
      let fail: (err: unknown) => void = () => {};
      const during = runCheck(() => new Promise((_, reject) => (fail = reject)), { timeoutMs: 1000, signal: term.signal });
      term.abort(new Error("leadership ended (lost)"));
      expect((await during).success).toBe(false);
      fail(term.signal.reason);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it.each([
    [new CheckFailure("PermissionDenied", "no"), "PermissionDenied"],
    [new MissingSecretError({ name: "s", key: "k" }), "SecretNotFound"],
    [new TypeError("wrapped", { cause: new EgressDeniedError("169.254.169.254", "metadata") }), "AddressNotAllowed"],
    [Object.assign(new Error("x"), { code: "ECONNREFUSED" }), "Unreachable"],
    [new RangeError("bug"), "UnexpectedError"],
  ])("classifies %s", async (error, reason) => {
    await expect(runCheck(() => Promise.reject(error), { timeoutMs: 1000 })).resolves.toMatchObject({ success: false, reason });
  });

  it("clamps long messages to what status can hold", async () => {
    const result = await runCheck(async () => succeeded("x".repeat(5000)), { timeoutMs: 1000 });
    expect(result.message.length).toBe(maxCheckMessageLength);
  });
});
