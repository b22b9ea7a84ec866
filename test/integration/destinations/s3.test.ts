import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policies, startS3IamGateway, type S3IamGateway } from "../../protocol-servers/s3-iam-gateway.ts";
import { s3rverCredentials, startS3rver, type LocalS3 } from "../../protocol-servers/s3-server.ts";
import { closedPort, startBlackHole, type BlackHole } from "../../protocol-servers/tcp-fixtures.ts";
import { checkStorage } from "./check-helpers.ts";

const bucket = "recordings";
const secrets = {
  s3rver: { AWS_ACCESS_KEY_ID: s3rverCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3rverCredentials.secretAccessKey },
  unknown: { AWS_ACCESS_KEY_ID: "AKIAUNKNOWN", AWS_SECRET_ACCESS_KEY: "whatever" },
  "rw": { AWS_ACCESS_KEY_ID: "AKIARW", AWS_SECRET_ACCESS_KEY: "rw-secret" },
  "rw-wrong-secret": { AWS_ACCESS_KEY_ID: "AKIARW", AWS_SECRET_ACCESS_KEY: "not-the-secret" },
  "ro": { AWS_ACCESS_KEY_ID: "AKIARO", AWS_SECRET_ACCESS_KEY: "ro-secret" },
  "objects-only": { AWS_ACCESS_KEY_ID: "AKIAOBJ", AWS_SECRET_ACCESS_KEY: "obj-secret" },
  "no-delete": { AWS_ACCESS_KEY_ID: "AKIAWORM", AWS_SECRET_ACCESS_KEY: "worm-secret" },
};
type Creds = keyof typeof secrets;
const spec = (endpoint: string, creds: Creds, extra: object = {}) => ({
  bucket,
  endpoint,
  forcePathStyle: true,
  allowInsecureHttp: true,
  credentialsSecretRef: { name: creds },
  ...extra,
});

async function objectKeys(endpoint: string): Promise<string[]> {
  const s3 = new S3Client({ region: "us-east-1", endpoint, forcePathStyle: true, credentials: s3rverCredentials });
  const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  s3.destroy();
  return (res.Contents ?? []).map((o) => o.Key!);
}

describe("RecordingStorage tester against s3rver", () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startS3rver([bucket]);
  });
  afterAll(() => s3.close());

  it("heads the bucket, then puts, reads back and deletes a probe under the prefix", async () => {
    const result = await checkStorage(spec(s3.endpoint, "s3rver", { prefix: "tenants/acme" }), secrets);
    expect(result).toMatchObject({ success: true, reason: "Succeeded" });
    expect(result.message).toMatch(/^wrote, read back and deleted tenants\/acme\/_probe\/trailkeeper-[0-9a-f-]{36}\.txt in bucket recordings$/);
    expect(await objectKeys(s3.endpoint)).toEqual([]);
  });

  it("reports an unknown access key id as InvalidCredentials at PutObject (HeadBucket's 403 is inconclusive)", async () => {
    const result = await checkStorage(spec(s3.endpoint, "unknown"), secrets);
    expect(result).toMatchObject({ success: false, reason: "InvalidCredentials" });
    expect(result.message).toBe("PutObject failed: InvalidAccessKeyId (HTTP 403)");
  });

  it("reports a missing bucket as NotFound at HeadBucket", async () => {
    const result = await checkStorage({ ...spec(s3.endpoint, "s3rver"), bucket: "no-such-bucket" }, secrets);
    expect(result).toMatchObject({ success: false, reason: "NotFound", message: "HeadBucket failed: HTTP 404; no such bucket at this endpoint (check bucket, endpoint and forcePathStyle)" });
  });
});

/** s3rver checks neither SigV4 signatures nor policies; the gateway adds both in front of it (see s3-iam-gateway.ts). */
describe("RecordingStorage tester against s3rver behind a SigV4 and policy gateway", () => {
  let s3: LocalS3;
  let gateway: S3IamGateway;
  let blackHole: BlackHole;
  beforeAll(async () => {
    s3 = await startS3rver([bucket]);
    gateway = await startS3IamGateway({
      upstream: s3.endpoint,
      region: "eu-west-1",
      keys: {
        AKIARW: { secretAccessKey: "rw-secret", allow: policies.readWrite },
        AKIARO: { secretAccessKey: "ro-secret", allow: policies.readOnly },
        AKIAOBJ: { secretAccessKey: "obj-secret", allow: policies.objectsOnly },
        AKIAWORM: { secretAccessKey: "worm-secret", allow: policies.noDelete },
      },
    });
    blackHole = await startBlackHole();
  });
  afterAll(() => Promise.all([gateway.close(), s3.close(), blackHole.close()]));
  const viaGateway = (creds: Creds, extra: object = {}) => spec(gateway.endpoint, creds, { region: "eu-west-1", ...extra });

  it("passes with a read-write key whose signature verifies", async () => {
    await expect(checkStorage(viaGateway("rw"), secrets)).resolves.toMatchObject({ success: true, reason: "Succeeded" });
  });

  it("reports a wrong secret key as InvalidCredentials (SignatureDoesNotMatch)", async () => {
    const result = await checkStorage(viaGateway("rw-wrong-secret"), secrets);
    expect(result).toMatchObject({ success: false, reason: "InvalidCredentials", message: "PutObject failed: SignatureDoesNotMatch (HTTP 403)" });
    expect(result.message).not.toContain("not-the-secret");
  });

  it("reports a read-only bucket policy as PermissionDenied at PutObject", async () => {
    const before = gateway.decisions.length;
    const result = await checkStorage(viaGateway("ro"), secrets);
    expect(result).toMatchObject({ success: false, reason: "PermissionDenied", message: "PutObject failed: AccessDenied (HTTP 403)" });
    expect(gateway.decisions.slice(before).map((d) => `${d.action} ${d.allowed}`)).toEqual(["s3:ListBucket true", "s3:PutObject false"]);
  });

  it("treats a 403 on HeadBucket alone as inconclusive and lets the object round trip decide", async () => {
    const result = await checkStorage(viaGateway("objects-only"), secrets);
    expect(result).toMatchObject({ success: true, reason: "Succeeded" });
    expect(result.message).toContain("HeadBucket was denied (inconclusive");
  });

  it("passes on a bucket that denies deletes and says the probe object remains", async () => {
    const result = await checkStorage(viaGateway("no-delete", { prefix: "worm/" }), secrets);
    expect(result).toMatchObject({ success: true });
    expect(result.message).toMatch(/DeleteObject failed: AccessDenied \(HTTP 403\); probe object worm\/_probe\/trailkeeper-.*\.txt remains/);
  });

  it("reports the wrong region as InvalidConfig", async () => {
    const result = await checkStorage(viaGateway("rw", { region: "us-east-1" }), secrets);
    expect(result).toMatchObject({ success: false, reason: "InvalidConfig", message: "HeadBucket failed: HTTP 400; usually the region is wrong for this bucket or endpoint" });
  });

  it("reports a refused connection and a timeout", async () => {
    const port = await closedPort();
    await expect(checkStorage(spec(`http://127.0.0.1:${port}`, "rw"), secrets)).resolves.toMatchObject({ success: false, reason: "Unreachable" });
    await expect(checkStorage({ ...spec(blackHole.url.replace("https", "http"), "rw"), timeout: "1s" }, secrets)).resolves.toMatchObject({ success: false, reason: "Timeout" });
  });
});
