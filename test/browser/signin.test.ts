/** Sign-in both ways, sign-out, session expiry and revocation, in Debian's chromium against the real server. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, testAdminToken } from "../support/api.ts";
import { appendEvents, mintLink, newPage, seededTenant, signInWithKey, startConsoleEnv, type ConsoleEnv } from "../support/browser.ts";

let env: ConsoleEnv;
let keys: { writer: string; reader: string };

beforeAll(async () => {
  env = await startConsoleEnv();
  keys = await seededTenant(env.base, "acme");
  await appendEvents(env.base, keys.writer, [{ actor: { id: "u-1", name: "Ada", type: "user" }, action: "auth.login", resource: { type: "console", id: "web" }, outcome: "success" }]);
});
afterAll(() => env?.close());

const signins = async (tenant: string) => (await call(env.base, "GET", "/v1/events?action=audit.console.signin", { token: keys.writer })).body.events.filter((e: { tenant: string }) => e.tenant === tenant);

describe("sign-in", () => {
  it("with a pasted API key: shows the tenant, lists events, and signs out", async () => {
    const { context, page } = await newPage(env);
    await page.goto("/");
    await page.waitForURL("**/signin");
    await signInWithKey(page, keys.reader);
    expect(new URL(page.url()).pathname).toBe("/audit-logs");
    await expect(page.getByTestId("tenant").textContent()).resolves.toBe("acme");
    await page.getByRole("cell", { name: "auth.login" }).waitFor();
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === "tk_console")!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe("Strict");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    // The signed-out cookie no longer opens the console.
    await page.goto("/audit-logs");
    await page.getByLabel("API key").waitFor();
    await context.close();
  });

  it("rejects a bad key with the server's problem detail and stores no session", async () => {
    const { context, page } = await newPage(env);
    await page.goto("/signin");
    await page.getByLabel("API key").fill("tk_not-a-real-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toContain("invalid_credentials");
    expect((await context.cookies()).some((c) => c.name === "tk_console")).toBe(false);
    await context.close();
  });

  it("with a one-time link: the token leaves the URL and a second use is refused", async () => {
    const link = await mintLink(env.base, "acme", { subject: "auditor@example.com", ttlSeconds: 300 });
    const url = new URL(link.url);
    const { context, page } = await newPage(env);
    await page.goto(`${url.pathname}${url.hash}`);
    await page.getByRole("heading", { name: "Audit Logs" }).waitFor();
    expect(page.url()).not.toContain(link.token);
    expect(await page.evaluate("history.length")).toBeLessThanOrEqual(2);
    await page.goBack().catch(() => undefined);
    expect(page.url()).not.toContain(link.token);
    await context.close();

    const again = await newPage(env);
    await again.page.goto(`${url.pathname}${url.hash}`);
    await expect(again.page.getByRole("alert").textContent()).resolves.toContain("already used or has expired");
    await again.context.close();
    const recorded = await signins("acme");
    expect(recorded.some((e: { actor: { id: string }; outcome: string }) => e.actor.id === "auditor@example.com" && e.outcome === "success")).toBe(true);
  });
});

describe("sessions end", () => {
  it("an expired session returns the viewer to sign-in with the reason", async () => {
    const { context, page } = await newPage(env);
    await signInWithKey(page, keys.reader);
    // The first search must have answered before the session ends, or the page itself meets the expiry first.
    await page.getByText(/^\d[\d,]* events? loaded/).waitFor();
    await env.db.pool.query("UPDATE viewer_sessions SET expires_at = now() - interval '1 second'");
    await page.getByLabel("Search audit logs").fill("auth");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.getByText("Your session expired. Sign in again.").waitFor();
    expect(new URL(page.url()).pathname).toBe("/signin");
    await context.close();
  });

  it("revoking the link revokes the session made from it", async () => {
    const link = await mintLink(env.base, "acme", { subject: "temp-viewer" });
    const url = new URL(link.url);
    const { context, page } = await newPage(env);
    await page.goto(`${url.pathname}${url.hash}`);
    await page.getByRole("heading", { name: "Audit Logs" }).waitFor();
    const r = await call(env.base, "DELETE", `/v1/admin/tenants/acme/viewer-sessions/${link.id}`, { token: testAdminToken });
    expect(r.status).toBe(204);
    await page.getByRole("link", { name: "Integrity" }).click();
    await page.getByText("Your session was revoked. Sign in again.").waitFor();
    await context.close();
  });
});
