import { describe, expect, it } from "vitest";
import type { SecretObject } from "../kube/types.ts";
import { SecretUsers } from "./dependency-index.ts";
import { checkDue, checkFingerprint, resolveSecrets, resolveTenant } from "./inputs.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const secrets: Record<string, SecretObject> = {
  hook: { metadata: { name: "hook", resourceVersion: "10" }, data: { "signing-secret": b64("whsec_abc") } },
  s3: { metadata: { name: "s3", resourceVersion: "11" }, data: { AWS_ACCESS_KEY_ID: b64("id"), AWS_SECRET_ACCESS_KEY: b64("key") } },
};
const read = async (name: string) => secrets[name];

describe("resolveSecrets", () => {
  it("decodes every referenced key and records each Secret's resourceVersion", async () => {
    const r = await resolveSecrets(read, [
      { name: "s3", key: "AWS_ACCESS_KEY_ID" },
      { name: "s3", key: "AWS_SECRET_ACCESS_KEY" },
      { name: "hook", key: "signing-secret" },
    ]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.source.get({ name: "hook", key: "signing-secret" })?.toString()).toBe("whsec_abc");
    expect(r.source.get({ name: "hook", key: "other" })).toBeUndefined();
    expect(r.versions).toEqual({ hook: "10", s3: "11" });
  });

  it("names a missing Secret and a missing key apart", async () => {
    await expect(resolveSecrets(read, [{ name: "gone", key: "k" }])).resolves.toEqual({ ok: false, reason: "SecretNotFound", message: 'Secret "gone" not found in the resource\'s namespace' });
    await expect(resolveSecrets(read, [{ name: "hook", key: "token" }])).resolves.toEqual({ ok: false, reason: "SecretKeyNotFound", message: 'Secret "hook" has no key "token"' });
  });
});

describe("resolveTenant", () => {
  it("uses the tenant label, else the namespace name, and refuses an invalid label", () => {
    expect(resolveTenant({ metadata: { name: "team-a", labels: { "trailkeeper.dev/tenant": "acme" } } })).toEqual({ ok: true, tenant: "acme" });
    expect(resolveTenant({ metadata: { name: "team-a" } })).toEqual({ ok: true, tenant: "team-a" });
    expect(resolveTenant({ metadata: { name: "team-a", labels: { "trailkeeper.dev/tenant": "Not_Valid" } } })).toMatchObject({ ok: false, reason: "InvalidTenantLabel" });
    expect(resolveTenant(undefined)).toBeUndefined();
  });
});

describe("checkDue", () => {
  const result = { success: true, reason: "Succeeded" as const, message: "ok", latencyMs: 1 };
  const fp = checkFingerprint("uid-1", 1, { hook: "10" });
  const memo = { fingerprint: fp, result, at: 1000, nextCheckAt: 301_000 };

  it("checks when nothing is remembered, when an input changed, or when the next check is due", () => {
    expect(checkDue(undefined, fp, 2000)).toBe(true);
    expect(checkDue(memo, checkFingerprint("uid-1", 2, { hook: "10" }), 2000)).toBe(true);
    expect(checkDue(memo, checkFingerprint("uid-1", 1, { hook: "12" }), 2000)).toBe(true);
    expect(checkDue(memo, checkFingerprint("uid-2", 1, { hook: "10" }), 2000)).toBe(true);
    expect(checkDue(memo, fp, 301_000)).toBe(true);
  });

  it("does not check again for a status write, a resync or any other event", () => {
    expect(checkDue(memo, checkFingerprint("uid-1", 1, { hook: "10" }), 300_999)).toBe(false);
  });
});

describe("SecretUsers", () => {
  it("maps a Secret to the resources referencing it and follows reference changes", () => {
    const index = new SecretUsers();
    index.set("ns/a", "ns", ["hook", "ca"]);
    index.set("ns/b", "ns", ["hook"]);
    index.set("other/c", "other", ["hook"]);
    expect(index.usersOf("ns", "hook")).toEqual(["ns/a", "ns/b"]);
    index.set("ns/a", "ns", ["ca"]);
    expect(index.usersOf("ns", "hook")).toEqual(["ns/b"]);
    index.remove("ns/b");
    expect(index.usersOf("ns", "hook")).toEqual([]);
    expect(index.usersOf("ns", "ca")).toEqual(["ns/a"]);
  });
});
