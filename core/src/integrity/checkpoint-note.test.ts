import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkpointBody, openCheckpoint, signCheckpoint } from "./checkpoint-note.ts";
import { parseVerifierKey, signerFromPrivateKey } from "./signing-key.ts";

const { privateKey } = generateKeyPairSync("ed25519");
const signer = signerFromPrivateKey("example.org/log", privateKey);
const cp = { tenant: "acme", seq: 42, hash: "ab".repeat(32), time: "2026-11-25T12:00:00.000Z" };

describe("signed checkpoint notes", () => {
  it("formats the C2SP checkpoint body", () => {
    expect(checkpointBody("example.org/log", cp)).toBe(`example.org/log/acme\n42\n${Buffer.from("ab".repeat(32), "hex").toString("base64")}\ntime 2026-11-25T12:00:00.000Z\n`);
  });

  it("round-trips through the verifier key and rejects any edit", () => {
    const { note } = signCheckpoint("example.org/log", cp, signer);
    const verifier = parseVerifierKey(signer.vkey);
    expect(openCheckpoint(note, verifier)).toEqual({ ...cp, origin: "example.org/log/acme" });
    expect(() => openCheckpoint(note.replace("\n42\n", "\n43\n"), verifier)).toThrow(/does not verify/);
    const other = signerFromPrivateKey("example.org/log", generateKeyPairSync("ed25519").privateKey);
    expect(() => openCheckpoint(note, parseVerifierKey(other.vkey))).toThrow(/no signature/);
  });

  it("accepts the PEM public key with a key name, and rejects a malformed verifier key", () => {
    const { note } = signCheckpoint("example.org/log", cp, signer);
    expect(openCheckpoint(note, parseVerifierKey(signer.publicKeyPem, "example.org/log")).seq).toBe(42);
    expect(() => parseVerifierKey("nonsense")).toThrow();
    expect(() => parseVerifierKey(signer.vkey.replace(/\+[0-9a-f]{8}\+/, "+00000000+"))).toThrow(/does not match/);
  });

  it("formats a Merkle checkpoint: the root on the hash line, the chain head as an extension line", () => {
    const merkle = { ...cp, root: "cd".repeat(32) };
    const b64 = Buffer.from("cd".repeat(32), "hex").toString("base64");
    expect(checkpointBody("example.org/log", merkle)).toBe(`example.org/log/acme\n42\n${b64}\nchain ${"ab".repeat(32)}\ntime 2026-11-25T12:00:00.000Z\n`);
    const { note } = signCheckpoint("example.org/log", merkle, signer);
    const verifier = parseVerifierKey(signer.vkey);
    expect(openCheckpoint(note, verifier)).toEqual({ ...merkle, origin: "example.org/log/acme" });
    expect(() => openCheckpoint(note.replace(`chain ${"ab".repeat(32)}`, `chain ${"ac".repeat(32)}`), verifier)).toThrow(/does not verify/);
  });

  it("still opens a checkpoint signed before the Merkle tree (no chain line: the hash line is the chain head)", () => {
    const { note } = signCheckpoint("example.org/log", cp, signer);
    expect(note).not.toContain("\nchain ");
    expect(openCheckpoint(note, parseVerifierKey(signer.vkey))).toEqual({ ...cp, origin: "example.org/log/acme" });
  });
});
