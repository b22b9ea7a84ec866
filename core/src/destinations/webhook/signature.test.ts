import { describe, expect, it } from "vitest";
import { InvalidSigningSecretError, newMessageId, sign, signingKey, webhookHeaders } from "./signature.ts";

describe("Standard Webhooks signature", () => {
  it("matches the specification's example vector", () => {
    const key = signingKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    expect(sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("builds the three headers with Unix seconds", () => {
    const key = Buffer.alloc(32, 7);
    const headers = webhookHeaders(key, "msg_1", "{}", new Date("2025-01-01T00:00:00.900Z"));
    expect(headers["webhook-timestamp"]).toBe("1735689600");
    expect(headers["webhook-signature"]).toBe(sign(key, "msg_1", 1735689600, "{}"));
  });

  it.each([
    ["no prefix", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    ["not base64", "whsec_not base64!"],
    ["too short", `whsec_${Buffer.alloc(16).toString("base64")}`],
    ["too long", `whsec_${Buffer.alloc(65).toString("base64")}`],
  ])("rejects a secret with %s without echoing it", (_why, secret) => {
    expect(() => signingKey(secret)).toThrow(InvalidSigningSecretError);
    try {
      signingKey(secret);
    } catch (err) {
      expect((err as Error).message).not.toContain(secret.slice(6, 20));
    }
  });

  it("makes message ids without dots", () => {
    expect(newMessageId()).toMatch(/^msg_[0-9a-f]{32}$/);
  });
});
