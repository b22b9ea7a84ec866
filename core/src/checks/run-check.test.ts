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
