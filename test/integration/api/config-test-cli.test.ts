import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policies, startS3IamGateway, type S3IamGateway } from "../../protocol-servers/s3-iam-gateway.ts";
import { startS3rver, type LocalS3 } from "../../protocol-servers/s3-server.ts";
import { startSplunkHecServer, type SplunkHecServer } from "../../protocol-servers/splunk-hec-server.ts";

const run = promisify(execFile);
const cli = path.resolve(import.meta.dirname, "../../../api-server/src/cli.ts");
const hecToken = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const s3Secret = "cli-s3-secret-0123456789";

let dir: string;
let hec: SplunkHecServer;
let s3: LocalS3;
let gateway: S3IamGateway;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "trailkeeper-config-test-cli-"));
  hec = await startSplunkHecServer({ tokens: { [hecToken]: {} } });
  s3 = await startS3rver(["recordings"]);
  gateway = await startS3IamGateway({ upstream: s3.endpoint, keys: { AKIACLI: { secretAccessKey: s3Secret, allow: policies.readWrite } } });
});
afterAll(async () => {
  await Promise.all([hec?.close(), gateway?.close()]);
  await s3?.close();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** The local servers listen on loopback, which the CLI refuses unless told so, like the operator. */
async function trailkeeper(args: string[], env: Record<string, string> = { EGRESS_ALLOW_LOOPBACK: "true" }): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const lfd = (url: string, extra = "") => `apiVersion: trailkeeper.dev/v1alpha1
kind: LogForwardingDestination
metadata:
  name: splunk
  namespace: acme
spec:
  splunkHec:
    url: ${url}
    allowInsecureHttp: true
    tokenSecretRef:
      name: splunk-hec
      key: token
${extra}`;

const secretWithData = (token: string, namespace = "acme") => `apiVersion: v1
kind: Secret
metadata:
  name: splunk-hec
  namespace: ${namespace}
data:
  token: ${Buffer.from(`${token}\n`).toString("base64")}
`;

describe("trailkeeper destination test", () => {
  it("prints every stage and exits 0 when the test passes (Secret data base64-decoded)", async () => {
    const out = await trailkeeper(["destination", "test", "-f", file("lfd.yaml", lfd(hec.url)), "--secrets", file("secrets.yaml", `---\n${secretWithData(hecToken)}`)]);
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout.trim().split("\n");
    expect(lines[0]).toBe(`LogForwardingDestination acme/splunk → ${hec.url}/`);
    expect(lines.slice(1, 6).map((l) => l.trim().split(/\s+/).slice(0, 2).join(" "))).toEqual(["ok resolve", "ok connect", "skip tls", "ok authenticate", "ok probe"]);
    expect(lines.at(-1)).toMatch(/^PASSED: Succeeded in \d+ ms$/);
    expect(out.stdout).not.toContain(hecToken);
  });

  it("exits 1 with the failed stage and its remedy for a refused token (stringData over data)", async () => {
    const secrets = `${secretWithData(hecToken)}stringData:\n  token: wrong-cli-token-feed\n`;
    const out = await trailkeeper(["destination", "test", "-f", file("lfd.yaml", lfd(hec.url)), "--secrets", file("secrets.yaml", secrets)]);
    expect(out.code, out.stderr).toBe(1);
    expect(out.stdout).toMatch(/FAIL authenticate\s+\d+ ms {2}the HEC token is invalid/);
    expect(out.stdout).toContain("remedy: The token was refused: check the HEC token, and that the token is enabled");
    expect(out.stdout).toMatch(/skip probe/);
    expect(out.stdout).toMatch(/^FAILED: InvalidCredentials in \d+ ms — /m);
    expect(out.stdout).not.toContain("wrong-cli-token-feed");
  });

  it("--json prints the same report as the API", async () => {
    const out = await trailkeeper(["destination", "test", "-f", file("lfd.yaml", lfd(hec.url)), "--secrets", file("secrets.yaml", secretWithData(hecToken)), "--json"]);
    expect(out.code, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout);
    expect(report).toMatchObject({ ok: true, reason: "Succeeded", target: `${hec.url}/` });
    expect(report.stages.map((s: { name: string }) => s.name)).toEqual(["resolve", "connect", "tls", "authenticate", "probe"]);
  });

  it("refuses loopback without EGRESS_ALLOW_LOOPBACK, like the operator (exit 1)", async () => {
    const out = await trailkeeper(["destination", "test", "-f", file("lfd.yaml", lfd(hec.url)), "--secrets", file("secrets.yaml", secretWithData(hecToken))], {});
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/FAIL resolve .*loopback/);
  });

  it("exits 2 naming a referenced Secret when --secrets is missing or lacks it (nothing read from a cluster)", async () => {
    const missing = await trailkeeper(["destination", "test", "-f", file("lfd.yaml", lfd(hec.url))]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('the spec references key "token" of Secret "splunk-hec"; pass --secrets');
    const otherNamespace = await trailkeeper(["destination", "test", "-f", file("lfd.yaml", lfd(hec.url)), "--secrets", file("secrets.yaml", secretWithData(hecToken, "elsewhere"))]);
    expect(otherNamespace.code).toBe(2);
    expect(otherNamespace.stderr).toContain('lacks key "token" of Secret "splunk-hec"');
  });

  it("exits 2 for a wrong kind or apiVersion, an invalid spec (with paths), and unreadable files", async () => {
    const wrongKind = await trailkeeper(["destination", "test", "-f", file("rs.yaml", lfd(hec.url).replace("LogForwardingDestination", "RecordingStorage"))]);
    expect(wrongKind).toMatchObject({ code: 2, stderr: expect.stringContaining('kind is "RecordingStorage", expected LogForwardingDestination') });
    const wrongVersion = await trailkeeper(["destination", "test", "-f", file("v.yaml", lfd(hec.url).replace("v1alpha1", "v9"))]);
    expect(wrongVersion).toMatchObject({ code: 2, stderr: expect.stringContaining("expected trailkeeper.dev/v1alpha1") });
    const invalid = await trailkeeper(["destination", "test", "-f", file("bad.yaml", lfd("ftp://example.com", "  timeout: forever\n"))]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain("spec.splunkHec.url:");
    expect(invalid.stderr).toContain("spec.timeout:");
    const absent = await trailkeeper(["destination", "test", "-f", path.join(dir, "absent.yaml")]);
    expect(absent).toMatchObject({ code: 2, stderr: expect.stringContaining("cannot read") });
    const notSecret = await trailkeeper(["destination", "test", "-f", file("lfd.yaml", lfd(hec.url)), "--secrets", file("notsecret.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")]);
    expect(notSecret).toMatchObject({ code: 2, stderr: expect.stringContaining("is not a v1 Secret") });
  });
});

describe("trailkeeper recording-storage test", () => {
  const rs = () => `apiVersion: trailkeeper.dev/v1alpha1
kind: RecordingStorage
metadata: {name: recordings}
spec:
  bucket: recordings
  endpoint: ${gateway.endpoint}
  forcePathStyle: true
  allowInsecureHttp: true
  credentialsSecretRef: {name: s3-keys}
`;
  const keys = (secret: string) => `apiVersion: v1\nkind: Secret\nmetadata: {name: s3-keys}\nstringData:\n  AWS_ACCESS_KEY_ID: AKIACLI\n  AWS_SECRET_ACCESS_KEY: ${secret}\n`;

  it("exits 0 through the SigV4-checking gateway, 1 with a wrong secret key", async () => {
    const ok = await trailkeeper(["recording-storage", "test", "-f", file("rs.yaml", rs()), "--secrets", file("keys.yaml", keys(s3Secret))]);
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    expect(ok.stdout).toContain(`RecordingStorage recordings → ${gateway.endpoint}/recordings`);
    const wrong = await trailkeeper(["recording-storage", "test", "-f", file("rs.yaml", rs()), "--secrets", file("keys.yaml", keys("not-the-cli-secret"))]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/FAIL authenticate .*SignatureDoesNotMatch/);
  });
});
