import { describe, expect, it } from "vitest";
import { recordingStorageSpecSchema } from "../crd/recording-storage.ts";
import { defaultEgressPolicy } from "../net/egress.ts";
import { secretSourceFrom } from "../secrets.ts";
import { recordingStorageTester } from "./s3-tester.ts";
import { keyUnderPrefix } from "./s3-client.ts";

describe("keyUnderPrefix", () => {
  it.each([
    ["", "_probe/x", "_probe/x"],
    ["recordings", "_probe/x", "recordings/_probe/x"],
    ["recordings/", "_probe/x", "recordings/_probe/x"],
  ])("%j + %s → %s", (prefix, key, expected) => {
    expect(keyUnderPrefix(prefix, key)).toBe(expected);
  });
});

describe("recordingStorageTester without the network", () => {
  const spec = (extra: object) => recordingStorageSpecSchema.parse({ bucket: "recordings", credentialsSecretRef: { name: "s3" }, ...extra });
  const secrets = secretSourceFrom({ s3: { AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "secret" } });

  it("reports missing credentials as SecretNotFound", async () => {
    const tester = recordingStorageTester(spec({}), { secrets: secretSourceFrom({}), egress: defaultEgressPolicy });
    await expect(tester.check()).resolves.toMatchObject({ success: false, reason: "SecretNotFound", message: 'key "AWS_ACCESS_KEY_ID" of Secret "s3" not found' });
  });

  it("refuses a metadata endpoint before connecting", async () => {
    const tester = recordingStorageTester(spec({ endpoint: "http://169.254.169.254", allowInsecureHttp: true }), { secrets, egress: defaultEgressPolicy });
    await expect(tester.check()).resolves.toMatchObject({ success: false, reason: "AddressNotAllowed" });
  });
});
