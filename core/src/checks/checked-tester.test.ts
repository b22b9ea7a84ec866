import { describe, expect, it } from "vitest";
import { MissingSecretError } from "../secrets.ts";
import { succeeded } from "./check-result.ts";
import { checkedTester } from "./checked-tester.ts";

describe("checkedTester", () => {
  it("reports a driver that cannot be built through check, without running anything", async () => {
    const tester = checkedTester(() => {
      throw new MissingSecretError({ name: "s3", key: "AWS_ACCESS_KEY_ID" });
    }, 1000);
    await expect(tester.check()).resolves.toEqual({ success: false, reason: "SecretNotFound", message: 'key "AWS_ACCESS_KEY_ID" of Secret "s3" not found', latencyMs: 0 });
    await expect(tester.close()).resolves.toBeUndefined();
  });

  it("runs the driver's check under the deadline and closes the driver", async () => {
    let closed = false;
    const tester = checkedTester(() => ({ check: async () => succeeded("reached"), close: async () => void (closed = true) }), 1000);
    await expect(tester.check()).resolves.toMatchObject({ success: true, reason: "Succeeded", message: "reached" });
    await tester.close();
    expect(closed).toBe(true);
  });

  it("ends the check when the caller's signal aborts", async () => {
    const controller = new AbortController();
    const tester = checkedTester(() => ({ check: () => new Promise(() => controller.abort()), close: async () => {} }), 60_000);
    await expect(tester.check({ signal: controller.signal })).resolves.toMatchObject({ success: false, reason: "Cancelled" });
  });
});
