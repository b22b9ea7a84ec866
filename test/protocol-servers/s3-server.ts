import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";

/**
 * s3rver 3, the local S3 the storage tests run against. It knows one key pair, S3RVER / S3RVER, and rejects unknown
 * access key ids with InvalidAccessKeyId — but it does not verify SigV4 signatures or evaluate any policy, which is
 * why s3-iam-gateway.ts exists.
 */
export const s3rverCredentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

export interface LocalS3 {
  endpoint: string;
  close(): Promise<void>;
}

export async function startS3rver(buckets: string[]): Promise<LocalS3> {
  const directory = mkdtempSync(join(tmpdir(), "trailkeeper-s3rver-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
