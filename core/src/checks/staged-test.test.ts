import { describe, expect, it } from "vitest";
import { logForwardingDestinationSpecSchema } from "../crd/log-forwarding-destination.ts";
import { recordingStorageSpecSchema } from "../crd/recording-storage.ts";
import { remedyFor } from "./remedies.ts";
import { missingInlineSecrets, redactorFor } from "./staged-test.ts";
import { destinationEndpoint, storageEndpoint } from "./test-endpoint.ts";

describe("redactorFor", () => {
  it("replaces every value, trimmed or not, longest first", () => {
    const redact = redactorFor({ a: { token: "abc123\n", longer: Buffer.from("abc123-more") }, b: { empty: "" } });
    expect(redact("sent abc123-more and abc123\n and abc123")).toBe("sent [redacted] and [redacted] and [redacted]");
  });
});

describe("missingInlineSecrets", () => {
  it("lists each reference without a value once", () => {
    const refs = [{ name: "s", key: "a" }, { name: "s", key: "b" }, { name: "s", key: "b" }, { name: "t", key: "a" }];
    expect(missingInlineSecrets(refs, { s: { a: "x" } })).toEqual([{ name: "s", key: "b" }, { name: "t", key: "a" }]);
  });
});

describe("test endpoints", () => {
  it("drops the query string of an HTTP URL and fills the default port", () => {
    const spec = logForwardingDestinationSpecSchema.parse({ webhook: { url: "https://hooks.example.com/in?token=t", signingSecretRef: { name: "s", key: "k" } } });
    expect(destinationEndpoint("webhook", spec.webhook!)).toMatchObject({ target: "https://hooks.example.com/in", host: "hooks.example.com", port: 443, transport: "tls" });
  });

  it("uses the syslog transport's default port and the Datadog site's API host", () => {
    const syslog = logForwardingDestinationSpecSchema.parse({ syslog: { host: "fd00::1", transport: "relp-tls" } }).syslog!;
    expect(destinationEndpoint("syslog", syslog)).toMatchObject({ target: "relp-tls://[fd00::1]:2514", port: 2514, transport: "tls", credentials: undefined });
    const datadog = logForwardingDestinationSpecSchema.parse({ datadog: { site: "datadoghq.eu", apiKeySecretRef: { name: "s", key: "k" } } }).datadog!;
    expect(destinationEndpoint("datadog", datadog)).toMatchObject({ target: "https://api.datadoghq.eu/", port: 443 });
  });

  it("addresses S3 buckets as the SDK does", () => {
    const aws = recordingStorageSpecSchema.parse({ bucket: "rec", region: "eu-west-1", credentialsSecretRef: { name: "s" } });
    expect(storageEndpoint(aws)).toMatchObject({ target: "https://rec.s3.eu-west-1.amazonaws.com/", host: "rec.s3.eu-west-1.amazonaws.com" });
    const minio = recordingStorageSpecSchema.parse({ bucket: "rec", endpoint: "http://minio:9000", forcePathStyle: true, allowInsecureHttp: true, credentialsSecretRef: { name: "s" } });
    expect(storageEndpoint(minio)).toMatchObject({ target: "http://minio:9000/rec", host: "minio", port: 9000, transport: "tcp" });
  });
});

describe("remedyFor", () => {
  it("prefers the kind's sentence, then the stage's and reason's, then the stage's", () => {
    expect(remedyFor("splunkHec", "authenticate", "InvalidCredentials")).toContain("HEC token");
    expect(remedyFor("webhook", "connect", "Unreachable")).toContain("Nothing accepts connections");
    expect(remedyFor("webhook", "probe", "Cancelled")).toBe("Check the destination's settings named in the message.");
  });
});
