/**
 * Log Forwarding with Save through Kubernetes, in Debian's chromium: the API server writes to the real
 * kube-apiserver harness (TRAILKEEPER_KUBERNETES_ACCESS=true). Save creates the LogForwardingDestination and its
 * labelled Secret, Disable patches spec.enabled, Replay sets the trailkeeper.dev/replay-from annotation, Edit
 * keeps the stored Secret, and a RecordingStorage is saved with its key pair; each is checked on the cluster itself. No operator runs here: the mirror row it would write is written with upsertMirror,
 * from the operator's own projection of the stored object where the test edits it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertMirror } from "../../core/src/db/config-mirror.ts";
import { mirrorRowOf } from "../../operator/src/mirror/projection.ts";
import type { CustomObject } from "../../operator/src/kube/types.ts";
import { call } from "../support/api.ts";
import { newPage, seededTenant, signInWithKey, startConsoleEnv, type ConsoleEnv } from "../support/browser.ts";
import { configScopes, destinationRow, mirror } from "../support/config-console.ts";
import { startKubeApiServer, type KubeApiServer } from "../support/kube.ts";
import { createTestNamespace, getResource, testKube, type Plural, type TestKube } from "../support/kube-client.ts";

let kube: KubeApiServer;
let tk: TestKube;
let namespace: string;
let env: ConsoleEnv;
let keys: { writer: string; reader: string };
const signingSecret = `whsec_${Buffer.alloc(32, "console-kube-test").toString("base64")}`;

beforeAll(async () => {
  kube = await startKubeApiServer();
  tk = testKube(kube.kubeconfigPath);
  namespace = await createTestNamespace(tk, "acme", { "trailkeeper.dev/tenant": "acme" });
  env = await startConsoleEnv({ TRAILKEEPER_KUBERNETES_ACCESS: "true", KUBECONFIG: kube.kubeconfigPath });
  keys = await seededTenant(env.base, "acme", configScopes);
}, 300_000);
afterAll(async () => {
  await env?.close();
  await kube?.stop();
}, 120_000);

/** Mirrors the resource as the operator's leader would: its projection of the object the kube-apiserver stores. */
async function mirrorFromCluster(plural: Plural, kind: "LogForwardingDestination" | "RecordingStorage", name: string) {
  const stored = await getResource(tk, plural, namespace, name);
  const row = mirrorRowOf(kind, stored as unknown as CustomObject, { metadata: { name: namespace, labels: { "trailkeeper.dev/tenant": "acme" } } });
  await upsertMirror(env.db.pool, row!);
  return stored;
}

describe("edit keeps what the form does not show", () => {
  it("changes only the field edited: index, filter, TLS reference, delivery tuning and the URL's query string stay", async () => {
    const spec = {
      format: "cef",
      splunkHec: {
        url: "https://splunk.example.com:8088/?channel=0f8b3c52-query-token", tokenSecretRef: { name: "splunk-token", key: "hec" }, index: "audit", source: "trailkeeper",
        host: "prod-1", tls: { caSecretRef: { name: "splunk-ca", key: "ca.crt" }, serverName: "splunk.internal" },
      },
      filter: { categories: ["auth", "secrets"], actions: ["user.login"] },
      checkInterval: "2m",
      delivery: { batchSize: 100, maxBackoff: "10m", onPermanentError: "pause" },
    };
    const put = await call(env.base, "PUT", `/v1/destinations/${namespace}/tuned`, { token: keys.reader, body: { spec, secrets: { "splunk-token": { hec: "0f8b3c52-6a1d-4e2f-9b7c-5d4e3f2a1b0c" } } } });
    expect(put.status).toBe(201);
    const before = await mirrorFromCluster("logforwardingdestinations", "LogForwardingDestination", "tuned");

    const { page } = await newPage(env);
    await signInWithKey(page, keys.reader);
    await page.goto(`/log-forwarding/${namespace}/tuned/edit`);
    const index = page.getByLabel("Index", { exact: true });
    await index.waitFor();
    // Every field the form has starts from the stored spec; the token is never shown, its Secret is the spec's.
    expect(await index.inputValue()).toBe("audit");
    expect(await page.getByLabel("URL", { exact: true }).inputValue()).toBe("https://splunk.example.com:8088/");
    await page.getByText("The stored URL has a query string or fragment, not shown here; it is kept unless you change the URL.", { exact: false }).waitFor();
    expect(await page.getByLabel("Host field").inputValue()).toBe("prod-1");
    expect(await page.getByLabel("Format").inputValue()).toBe("cef");
    expect(await page.getByLabel("Check interval").inputValue()).toBe("2m");
    expect(await page.getByLabel("HEC token").inputValue()).toBe("");
    await page.getByText("empty means splunk-token.", { exact: false }).waitFor();
    await index.fill("audit_v2");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByRole("heading", { name: `${namespace}/tuned`, exact: true }).waitFor();

    const after = await getResource(tk, "logforwardingdestinations", namespace, "tuned");
    expect(after.spec).toEqual({ ...before.spec, splunkHec: { ...before.spec.splunkHec, index: "audit_v2" } });
    expect(after.spec.splunkHec.url).toBe(spec.splunkHec.url);
    expect(after.metadata.generation).toBe(before.metadata.generation + 1);
    const token = await tk.core.readNamespacedSecret({ namespace, name: "splunk-token" });
    expect(Buffer.from(token.data!.hec!, "base64").toString()).toBe("0f8b3c52-6a1d-4e2f-9b7c-5d4e3f2a1b0c");

    // The mirror still shows the generation edited from: a second edit would undo the first, so it is refused.
    await page.goto(`/log-forwarding/${namespace}/tuned/edit`);
    await page.getByLabel("Source", { exact: true }).fill("other-source");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByRole("alert").getByText("The destination could not be saved (409 conflict)").waitFor();
    expect((await getResource(tk, "logforwardingdestinations", namespace, "tuned")).spec).toEqual(after.spec);
    await page.context().close();
  });
});

describe("edit keeps what the storage form does not show", () => {
  it("changes only the prefix: encryption, TLS reference and the Secret's own key names stay", async () => {
    const spec = {
      bucket: "kept-recordings", region: "eu-west-1", endpoint: "https://minio.example.com", forcePathStyle: true, prefix: "sessions/",
      credentialsSecretRef: { name: "minio-keys", accessKeyIdKey: "id", secretAccessKeyKey: "secret" },
      serverSideEncryption: { algorithm: "aws:kms", kmsKeyId: "arn:aws:kms:eu-west-1:1:key/x" },
      tls: { caSecretRef: { name: "minio-ca", key: "ca.crt" } }, checkInterval: "10m",
    };
    const put = await call(env.base, "PUT", `/v1/recording-storages/${namespace}/kept`, { token: keys.reader, body: { spec, secrets: { "minio-keys": { id: "AKIAKEPT", secret: "kept-secret" } } } });
    expect(put.status).toBe(201);
    const before = await mirrorFromCluster("recordingstorages", "RecordingStorage", "kept");

    const { page } = await newPage(env);
    await signInWithKey(page, keys.reader);
    await page.getByRole("link", { name: "Recording Storage" }).click();
    await page.getByRole("button", { name: `Edit ${namespace}/kept` }).click();
    const prefix = page.getByLabel("Key prefix");
    expect(await prefix.inputValue()).toBe("sessions/");
    await prefix.fill("archive/");
    await page.getByLabel("Secret access key").fill("rotated-secret");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText(`Updated ${namespace}/kept.`).waitFor();

    expect((await getResource(tk, "recordingstorages", namespace, "kept")).spec).toEqual({ ...before.spec, prefix: "archive/" });
    const secret = await tk.core.readNamespacedSecret({ namespace, name: "minio-keys" });
    const text = (k: string) => Buffer.from(secret.data![k]!, "base64").toString();
    expect([text("id"), text("secret")]).toEqual(["AKIAKEPT", "rotated-secret"]);
    await page.context().close();
  });
});

describe("save through Kubernetes", () => {
  it("creates the resource and its Secret, then disables and replays it", async () => {
    const { page } = await newPage(env);
    await signInWithKey(page, keys.reader);
    await page.goto("/log-forwarding/new");
    await page.getByText(`Namespaces bound to this tenant: ${namespace}.`).waitFor();
    expect(await page.getByLabel("Namespace", { exact: true }).inputValue()).toBe(namespace);
    await page.getByLabel("Name", { exact: true }).fill("siem");
    await page.getByLabel("URL", { exact: true }).fill("https://siem.example.com/audit");
    await page.getByLabel("Signing secret").fill(signingSecret);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByRole("heading", { name: `${namespace}/siem`, exact: true }).waitFor();

    const created = await getResource(tk, "logforwardingdestinations", namespace, "siem");
    expect(created.spec.webhook).toMatchObject({ url: "https://siem.example.com/audit", signingSecretRef: { name: "siem-credentials", key: "signingSecret" } });
    const secret = await tk.core.readNamespacedSecret({ namespace, name: "siem-credentials" });
    expect(Buffer.from(secret.data!.signingSecret!, "base64").toString()).toBe(signingSecret);
    expect(secret.metadata!.labels).toMatchObject({ "app.kubernetes.io/managed-by": "trailkeeper-api-server" });

    // What the operator's mirror would report once it reconciled the new resource.
    await mirror(env.db.pool, destinationRow("acme", namespace, "siem", { uid: created.metadata.uid }));
    await page.getByRole("heading", { name: "Actions" }).waitFor({ timeout: 15_000 });
    await page.getByRole("button", { name: "Disable" }).click();
    await page.getByText("Disabled.").waitFor();
    expect((await getResource(tk, "logforwardingdestinations", namespace, "siem")).spec.enabled).toBe(false);

    await page.getByLabel("Replay from").fill("2026-12-01T09:30:00");
    await page.getByRole("button", { name: "Replay" }).click();
    await page.getByText(/^Replay from .* requested/).waitFor();
    const annotations = (await getResource(tk, "logforwardingdestinations", namespace, "siem")).metadata as { annotations?: Record<string, string> };
    const expected = await page.evaluate(`new Date("2026-12-01T09:30:00").getTime()`);
    expect(Date.parse(annotations.annotations!["trailkeeper.dev/replay-from"]!)).toBe(expected);

    // Edit without retyping the secret: the spec changes, the stored Secret stays.
    await page.getByRole("link", { name: "Edit" }).click();
    const url = page.getByLabel("URL", { exact: true });
    await url.waitFor();
    expect(await url.inputValue()).toBe("https://siem.example.com/audit");
    await url.fill("https://siem-2.example.com/audit");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByRole("heading", { name: `${namespace}/siem`, exact: true }).waitFor();
    expect((await getResource(tk, "logforwardingdestinations", namespace, "siem")).spec.webhook.url).toBe("https://siem-2.example.com/audit");
    const kept = await tk.core.readNamespacedSecret({ namespace, name: "siem-credentials" });
    expect(Buffer.from(kept.data!.signingSecret!, "base64").toString()).toBe(signingSecret);
    await page.context().close();
  });

  it("saves a recording storage and its key pair", async () => {
    const { page } = await newPage(env);
    await signInWithKey(page, keys.reader);
    await page.getByRole("link", { name: "Recording Storage" }).click();
    await page.getByText(`Namespaces bound to this tenant: ${namespace}.`).waitFor();
    await page.getByLabel("Name", { exact: true }).fill("recordings");
    await page.getByLabel("Bucket", { exact: true }).fill("session-recordings");
    await page.getByLabel("Endpoint", { exact: true }).fill("https://minio.example.com");
    await page.getByLabel("Access key id").fill("AKIASAVETEST");
    await page.getByLabel("Secret access key").fill("save-test-secret-key");
    await page.getByLabel("Path-style addressing (forcePathStyle)").check();
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText(`Created ${namespace}/recordings.`).waitFor();
    const created = await getResource(tk, "recordingstorages", namespace, "recordings");
    expect(created.spec).toMatchObject({ bucket: "session-recordings", endpoint: "https://minio.example.com", forcePathStyle: true, credentialsSecretRef: { name: "recordings-credentials" } });
    const secret = await tk.core.readNamespacedSecret({ namespace, name: "recordings-credentials" });
    const text = (k: string) => Buffer.from(secret.data![k]!, "base64").toString();
    expect([text("AWS_ACCESS_KEY_ID"), text("AWS_SECRET_ACCESS_KEY")]).toEqual(["AKIASAVETEST", "save-test-secret-key"]);
    await page.context().close();
  });

  it("shows the server's problem when a save is refused", async () => {
    const { page } = await newPage(env);
    await signInWithKey(page, keys.reader);
    await page.goto("/log-forwarding/new");
    await page.getByLabel("Namespace", { exact: true }).fill("not-bound");
    await page.getByLabel("Name", { exact: true }).fill("siem");
    await page.getByLabel("URL", { exact: true }).fill("https://siem.example.com/audit");
    await page.getByLabel("Signing secret").fill(signingSecret);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByRole("alert").getByText("The destination could not be saved (404 namespace_not_bound)").waitFor();
    await page.context().close();
  });
});
