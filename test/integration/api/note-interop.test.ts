import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { generateKeyPairSync } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { signCheckpoint } from "../../../core/src/integrity/checkpoint-note.ts";
import { signerFromPrivateKey } from "../../../core/src/integrity/signing-key.ts";

const bin = path.join(mkdtempSync(path.join(tmpdir(), "note-verify-")), "note-verify");

beforeAll(() => {
  // Go's own note package (golang.org/x/mod/sumdb/note) is the off-the-shelf verifier.
  const build = spawnSync("go", ["build", "-o", bin, "."], { cwd: path.resolve(import.meta.dirname, "../../note-verify"), encoding: "utf8" });
  if (build.status !== 0) throw new Error(`go build failed: ${build.stderr}`);
}, 180_000);

describe("checkpoint notes interoperate with golang.org/x/mod/sumdb/note", () => {
  const signer = signerFromPrivateKey("trailkeeper.dev/audit", generateKeyPairSync("ed25519").privateKey);
  const { note } = signCheckpoint("trailkeeper.dev/audit", { tenant: "acme", seq: 7, hash: "0f".repeat(32), time: "2026-11-25T00:00:00.000Z" }, signer);

  it("accepts our note with our verifier key and returns the signed text", () => {
    const r = spawnSync(bin, [signer.vkey], { input: note, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(note.slice(0, note.indexOf("\n\n") + 1));
  });

  it("rejects an edited note", () => {
    const r = spawnSync(bin, [signer.vkey], { input: note.replace("\n7\n", "\n8\n"), encoding: "utf8" });
    expect(r.status).toBe(1);
  });
});
