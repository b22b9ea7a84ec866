/**
 * The Integrity page in Debian's chromium: the latest signed checkpoint, "Verify now" on an intact chain and on
 * one tampered with directly in the database, and the downloads the offline verifier takes.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, tenantWithKey, testAdminToken } from "../support/api.ts";
import { appendReceivedAt } from "../support/received-at.ts";
import { appendEvents, newPage, seededTenant, signInWithKey, startConsoleEnv, type ConsoleEnv } from "../support/browser.ts";

const cli = path.resolve(import.meta.dirname, "../../api-server/src/cli.ts");
let env: ConsoleEnv;
let keys: { writer: string; reader: string };

beforeAll(async () => {
  env = await startConsoleEnv();
  keys = await seededTenant(env.base, "acme");
  await appendEvents(env.base, keys.writer, Array.from({ length: 30 }, (_, i) => ({ actor: { id: `u-${i % 3}`, type: "user" }, action: "resource.update", resource: { type: "cluster", id: `c-${i}` }, outcome: "success", details: { n: i } })));
  await env.api.checkpointer.runOnce(true);
});
afterAll(() => env?.close());

describe("integrity", () => {
  it("shows the latest checkpoint, verifies, and its downloads satisfy the offline verifier", async () => {
    const latest = (await call(env.base, "GET", "/v1/integrity/checkpoints/latest", { token: keys.writer })).body;
    const { page } = await newPage(env);
    await signInWithKey(page, keys.reader);
    await page.getByRole("link", { name: "Integrity" }).click();
    await page.getByRole("heading", { name: "Latest signed checkpoint" }).waitFor();
    await page.getByText("trailkeeper.dev/audit/acme").waitFor();
    await page.getByText(latest.hash).waitFor();
    await page.getByRole("definition").filter({ hasText: new RegExp(`^${latest.seq}$`) }).waitFor();

    await page.getByRole("button", { name: "Verify now" }).click();
    await page.getByText("Chain intact.").waitFor();

    const dir = mkdtempSync(path.join(tmpdir(), "tk-console-"));
    const [keyDownload] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download public key" }).click()]);
    const [cpDownload] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download checkpoints" }).click()]);
    const keyFile = path.join(dir, "public-key.json");
    const cpFile = path.join(dir, "checkpoints.json");
    await keyDownload.saveAs(keyFile);
    await cpDownload.saveAs(cpFile);
    expect(JSON.parse(readFileSync(keyFile, "utf8"))).toEqual((await call(env.base, "GET", "/v1/integrity/public-key")).body);
    expect(JSON.parse(readFileSync(cpFile, "utf8")).checkpoints).toEqual((await call(env.base, "GET", "/v1/integrity/checkpoints", { token: keys.writer })).body.checkpoints);

    const exportFile = path.join(dir, "export.jsonl");
    writeFileSync(exportFile, await (await fetch(`${env.base}/v1/events/export?format=jsonl`, { headers: { authorization: `Bearer ${keys.writer}` } })).text());
    const r = spawnSync(process.execPath, [cli, "verify", exportFile, "--checkpoint", cpFile, "--public-key", keyFile, "--json"], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    await page.context().close();
  });

  it("says which events retention removed, and verifies from the checkpoint that sealed them", async () => {
    expect((await call(env.base, "POST", "/v1/admin/tenants", { token: testAdminToken, body: { id: "pruned" } })).status).toBe(201);
    await env.db.pool.query("SELECT trailkeeper_ensure_event_partitions('2025-01-01', '2025-02-01')");
    await appendReceivedAt(env.db.pool, "pruned", 40, "2025-01-10T00:00:00Z");
    const reader = await tenantWithKey(env.base, "pruned", ["events:read", "integrity:read"]);
    expect((await call(env.base, "PUT", "/v1/admin/tenants/pruned/retention", { token: testAdminToken, body: { retentionDays: 365 } })).status).toBe(200);
    expect((await call(env.base, "POST", "/v1/admin/tenants/pruned/prune", { token: testAdminToken })).body).toMatchObject({ prunedThrough: 32 });
    const { page } = await newPage(env);
    await signInWithKey(page, reader);
    await page.goto("/integrity");
    await page.getByRole("button", { name: "Verify now" }).click();
    await page.getByText("Chain intact.").waitFor();
    await page.getByText("Events 1–32 were removed by this tenant's retention period").waitFor();
    await page.context().close();
  });

  it("reports a chain tampered with in the database, locating the failure", async () => {
    const su = await env.db.superuser();
    try {
      await su.query("SET session_replication_role = replica");
      await su.query("UPDATE events SET details = '{\"n\": -1}' WHERE tenant = 'acme' AND seq = 12");
    } finally {
      await su.end();
    }
    const { page } = await newPage(env);
    await signInWithKey(page, keys.reader);
    await page.goto("/integrity");
    await page.getByRole("button", { name: "Verify now" }).click();
    const verdict = page.getByText("Tampering detected at seq 12: hash_mismatch.");
    await verdict.waitFor();
    await page.getByText("the event's content no longer hashes to its stored hash").waitFor();
    await page.context().close();
  });
});
