import { describe, expect, it } from "vitest";
import { destinationKinds } from "../crd/destination-blocks.ts";
import { logForwardingDestinationSpecSchema } from "../crd/log-forwarding-destination.ts";
import { defaultEgressPolicy } from "../net/egress.ts";
import { noSecrets, secretSourceFrom } from "../secrets.ts";
import { createDestination, createSender, destinationRegistry, senderRegistry } from "./registry.ts";
import { webhookSender } from "./webhook/sender.ts";
import { webhookDestination } from "./webhook/webhook.ts";

// Compile-time checks (tsc runs in `npm test`): a registry missing a kind does not type-check.
// @ts-expect-error splunkHec, datadog, elasticsearch and syslog are missing
const incompleteDestinations: typeof destinationRegistry = { webhook: webhookDestination };
// @ts-expect-error splunkHec, datadog, elasticsearch and syslog are missing
const incompleteSenders: typeof senderRegistry = { webhook: webhookSender };
void incompleteDestinations;
void incompleteSenders;

describe("destination registry", () => {
  it("has a factory for every destination block in the CRD", () => {
    expect(Object.keys(destinationRegistry).sort()).toEqual([...destinationKinds].sort());
  });

  it("reports a missing Secret without building the driver", async () => {
    const spec = logForwardingDestinationSpecSchema.parse({ splunkHec: { url: "https://splunk:8088", tokenSecretRef: { name: "hec", key: "token" } } });
    const destination = createDestination(spec, { secrets: noSecrets, egress: defaultEgressPolicy });
    await expect(destination.check()).resolves.toEqual({ success: false, reason: "SecretNotFound", message: 'key "token" of Secret "hec" not found', latencyMs: 0 });
  });

  it("reports an unusable signing secret as InvalidConfig", async () => {
    const spec = logForwardingDestinationSpecSchema.parse({ webhook: { url: "https://siem.example.com", signingSecretRef: { name: "wh", key: "s" } } });
    const destination = createDestination(spec, { secrets: secretSourceFrom({ wh: { s: "not-a-whsec" } }), egress: defaultEgressPolicy });
    await expect(destination.check()).resolves.toMatchObject({ success: false, reason: "InvalidConfig", message: "invalid webhook signing secret: must start with whsec_" });
  });

  it("refuses the metadata service before any network traffic", async () => {
    const spec = logForwardingDestinationSpecSchema.parse({ datadog: { apiKeySecretRef: { name: "dd", key: "k" }, endpoint: "http://169.254.169.254/", allowInsecureHttp: true } });
    const destination = createDestination(spec, { secrets: secretSourceFrom({ dd: { k: "key" } }), egress: defaultEgressPolicy });
    await expect(destination.check()).resolves.toMatchObject({ success: false, reason: "AddressNotAllowed" });
    await destination.close();
  });

  it("has a sender for every destination block in the CRD", () => {
    expect(Object.keys(senderRegistry).sort()).toEqual([...destinationKinds].sort());
  });

  it("builds a sender that holds the cursor and says why when a Secret is missing or unusable", async () => {
    const deps = { egress: defaultEgressPolicy, destinationUid: "uid-1" };
    const hec = logForwardingDestinationSpecSchema.parse({ splunkHec: { url: "https://splunk:8088", tokenSecretRef: { name: "hec", key: "token" } } });
    await expect(createSender(hec, { ...deps, secrets: noSecrets }).send([], new AbortController().signal)).rejects.toMatchObject({ kind: "retryable", message: 'key "token" of Secret "hec" not found' });
    const webhook = logForwardingDestinationSpecSchema.parse({ webhook: { url: "https://siem.example.com", signingSecretRef: { name: "wh", key: "s" } } });
    const sender = createSender(webhook, { ...deps, secrets: secretSourceFrom({ wh: { s: "not-a-whsec" } }) });
    await expect(sender.send([], new AbortController().signal)).rejects.toMatchObject({ kind: "retryable", message: "invalid webhook signing secret: must start with whsec_" });
    await sender.close();
  });
});
