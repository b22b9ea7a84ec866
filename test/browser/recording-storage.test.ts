/**
 * Recording Storage in Debian's chromium against the real API server: the mirrored storages, Test Connection
 * against S3 with signature checking (s3rver behind test/protocol-servers/s3-iam-gateway.ts) with the right and a
 * wrong secret, CRD validation per field, Save as a manifest, a GitOps-managed storage read-only, and axe-core
 * with screenshots for docs/console.md.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadAll } from "js-yaml";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordingStorageSpecSchema } from "../../core/src/crd/recording-storage.ts";
import { policies, startS3IamGateway, type S3IamGateway } from "../protocol-servers/s3-iam-gateway.ts";
import { startS3rver, type LocalS3 } from "../protocol-servers/s3-server.ts";
import { axeScan, newPage, seededTenant, seriousOrWorse, signInWithKey, startConsoleEnv, type ConsoleEnv } from "../support/browser.ts";
import { configScopes, fullScreenshot, mirror, shownStages, storageRow } from "../support/config-console.ts";

const shotDir = process.env.TRAILKEEPER_SCREENSHOTS === "1" ? path.resolve(import.meta.dirname, "../../docs/console") : mkdtempSync(path.join(tmpdir(), "tk-shots-"));
const accessKeyId = "AKIACONSOLETEST";
const secretAccessKey = "console-S3-secret-0123456789abcdefXYZ";

let env: ConsoleEnv;
let keys: { writer: string; reader: string };
let s3: LocalS3;
let gateway: S3IamGateway;

beforeAll(async () => {
  env = await startConsoleEnv({ EGRESS_ALLOW_LOOPBACK: "true", TRAILKEEPER_CONFIG_TESTS_PER_MINUTE: "6000", TRAILKEEPER_CONFIG_TEST_BURST: "100" });
  keys = await seededTenant(env.base, "acme", configScopes);
  s3 = await startS3rver(["recordings"]);
  gateway = await startS3IamGateway({ upstream: s3.endpoint, region: "eu-west-1", keys: { [accessKeyId]: { secretAccessKey, allow: policies.readWrite } } });
  await mirror(env.db.pool, storageRow("acme", "acme-prod", "recordings"));
  await mirror(env.db.pool, storageRow("acme", "acme-gitops", "flux-recs", {
    details: { bucket: "flux-recs", region: "us-east-1", prefix: "", forcePathStyle: false }, endpoint: null,
    conditions: [{ type: "Ready", status: "False", reason: "InvalidCredentials", message: "SignatureDoesNotMatch", lastTransitionTime: "2026-12-06T09:00:00Z" }],
    managedBy: { tool: "flux", reason: "label kustomize.toolkit.fluxcd.io/name=platform" },
  }));
});
afterAll(async () => {
  await gateway?.close();
  await s3?.close();
  await env?.close();
});

async function signedIn(opts: Parameters<typeof newPage>[1] = {}): Promise<Page> {
  const { page } = await newPage(env, opts);
  await signInWithKey(page, keys.reader);
  await page.getByRole("link", { name: "Recording Storage" }).click();
  await page.getByRole("heading", { name: "Recording Storage" }).waitFor();
  return page;
}

async function fill(page: Page, secret: string) {
  await page.getByLabel("Namespace", { exact: true }).fill("acme-prod");
  await page.getByLabel("Name", { exact: true }).fill("session-recordings");
  await page.getByLabel("Bucket", { exact: true }).fill("recordings");
  await page.getByLabel("Region", { exact: true }).fill("eu-west-1");
  await page.getByLabel("Endpoint", { exact: true }).fill(gateway.endpoint);
  await page.getByLabel("Access key id").fill(accessKeyId);
  await page.getByLabel("Secret access key").fill(secret);
  await page.getByLabel("Key prefix").fill("sessions/");
  await page.getByLabel("Path-style addressing (forcePathStyle)").check();
  await page.getByLabel("Allow plain http://").check();
}

describe("recording storage", () => {
  it("lists the tenant's storages; a GitOps-managed one is read-only with the reason", async () => {
    const page = await signedIn();
    const row = page.getByRole("row", { name: /acme-prod\/recordings/ });
    expect((await row.getByRole("cell").allInnerTexts()).slice(0, 5)).toEqual(["recordings", "eu-west-1", "https://minio.example.com/", "Yes", "True"]);
    const flux = page.getByRole("row", { name: /acme-gitops\/flux-recs/ });
    await flux.getByText("Read-only: label kustomize.toolkit.fluxcd.io/name=platform").waitFor();
    expect(await flux.getByRole("cell").nth(4).innerText()).toBe("False · InvalidCredentials");
    expect(await flux.getByRole("button", { name: /Edit/ }).count()).toBe(0);
    await page.getByRole("button", { name: "Edit acme-prod/recordings" }).click();
    await page.getByRole("heading", { name: "Edit acme-prod/recordings" }).waitFor();
    expect(await page.getByLabel("Bucket", { exact: true }).inputValue()).toBe("recordings");
    expect(await page.getByLabel("Key prefix").inputValue()).toBe("sessions/");
    await page.context().close();
  });

  it("Test Connection passes with the right key pair and fails at authenticate with a wrong secret", async () => {
    const page = await signedIn();
    await fill(page, secretAccessKey);
    await page.getByRole("button", { name: "Test Connection" }).click();
    const ok = await shownStages(page);
    expect(ok.map((s) => s.status).every((s) => s === "passed" || s === "skipped")).toBe(true);
    await page.getByText("Test passed").waitFor();
    expect(gateway.decisions.some((d) => d.accessKeyId === accessKeyId && d.action === "s3:PutObject" && d.allowed)).toBe(true);

    await page.getByLabel("Secret access key").fill("wrong-secret-for-the-gateway");
    await page.getByRole("button", { name: "Test Connection" }).click();
    await page.getByText("Test failed").waitFor();
    const failed = (await shownStages(page)).find((s) => s.status === "failed");
    expect(failed?.name).toBe("authenticate");
    await page.getByRole("table", { name: "Test stages" }).getByText("Remedy:").waitFor();
    expect(await page.locator("main").innerText()).not.toContain("wrong-secret-for-the-gateway");
    await page.context().close();
  });

  it("validates with the CRD's rules and saves as a manifest without sending anything", async () => {
    const page = await signedIn();
    const sent: string[] = [];
    page.on("request", (r) => r.method() !== "GET" && sent.push(r.url()));
    await fill(page, secretAccessKey);
    await page.getByLabel("Bucket", { exact: true }).fill("Not_A_Bucket");
    await page.getByRole("button", { name: "Save as manifest" }).click();
    await page.getByText("must be an S3 bucket name").waitFor();
    expect(await page.evaluate("document.activeElement.id")).toBe("f-bucket");
    await page.getByLabel("Bucket", { exact: true }).fill("recordings");
    await page.getByRole("button", { name: "Save as manifest" }).click();
    await page.getByLabel("Apply command").getByText("kubectl apply -f session-recordings.yaml").waitFor();
    const docs = loadAll(await page.getByLabel("Manifest YAML").innerText()) as { kind: string; spec?: unknown; stringData?: unknown }[];
    expect(docs.map((d) => d.kind)).toEqual(["Secret", "RecordingStorage"]);
    expect(docs[0]!.stringData).toEqual({ AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey });
    expect(docs[1]!.spec).toEqual({ bucket: "recordings", region: "eu-west-1", endpoint: gateway.endpoint, prefix: "sessions/", forcePathStyle: true, allowInsecureHttp: true, credentialsSecretRef: { name: "session-recordings-credentials" } });
    expect(recordingStorageSpecSchema.safeParse(docs[1]!.spec).success).toBe(true);
    expect(sent).toEqual([]);
    await page.context().close();
  });
});

const looks = [
  { look: "desktop-light", viewport: { width: 1280, height: 800 }, colorScheme: "light" as const },
  { look: "desktop-dark", viewport: { width: 1280, height: 800 }, colorScheme: "dark" as const },
  { look: "phone", viewport: { width: 390, height: 844 }, colorScheme: "light" as const, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
];

describe("quality", () => {
  for (const { look, ...opts } of looks) {
    it(`passes axe-core and fits the screen: ${look}`, async () => {
      const page = await signedIn(opts);
      mkdirSync(shotDir, { recursive: true });
      await fill(page, "wrong-secret-for-the-gateway");
      await page.getByRole("button", { name: "Test Connection" }).click();
      await page.getByText("Test failed").waitFor();
      const violations = seriousOrWorse(await axeScan(page));
      expect(violations, `${look}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
      expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(opts.viewport.width);
      await fullScreenshot(page, path.join(shotDir, `recording-storage-${look}.png`));
      await page.context().close();
    });
  }
});
