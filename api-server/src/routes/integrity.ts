import { Router } from "express";
import { z } from "zod";
import { listCheckpoints } from "@trailkeeper/core/db/checkpoints.ts";
import type { Pool } from "@trailkeeper/core/db/pool.ts";
import type { NoteSigner, NoteVerifier } from "@trailkeeper/core/integrity/signing-key.ts";
import { requireScope } from "../auth.ts";
import { Problem } from "../problem.ts";
import type { ApiKeyResolver } from "../services/api-keys.ts";
import type { ReadReplica } from "../services/read-replica.ts";
import type { StreamingReads } from "../services/streaming-reads.ts";
import { verifyStoredChain } from "../services/verify.ts";
import { decodeCursor, encodeCursor, pageSchema, parseQuery } from "./query-params.ts";

const verifyParams = z
  .object({ fromSeq: z.coerce.number().int().min(1).default(1), toSeq: z.coerce.number().int().min(1).optional() })
  .refine((p) => p.toSeq === undefined || p.toSeq >= p.fromSeq, { message: "toSeq must not be below fromSeq", path: ["toSeq"] });

export function integrityRouter(deps: { pool: Pool; reads: ReadReplica; resolver: ApiKeyResolver; signer: NoteSigner; verifier: NoteVerifier; logName: string; streamingReads: StreamingReads }): Router {
  const r = Router();
  const { pool } = deps;
  const scope = requireScope(deps.resolver, "integrity:read");

  r.get("/v1/integrity/verify", scope, async (req, res) => {
    const query = req.query as Record<string, unknown>;
    const [p] = parseQuery(query, verifyParams);
    const done = await deps.streamingReads.admit(req.principal!.tenant);
    const tenant = req.principal!.tenant;
    // On the replica as it stands (the answer's headSeq says how far that is); a `toSeq` waits for the replica to
    // apply it, like an export's head, else the primary verifies.
    const result = await deps.reads.read("verify", tenant, (db) => verifyStoredChain(db, deps.verifier, tenant, p.fromSeq, p.toSeq, deps.streamingReads.limits.statementTimeoutMs), { needSeq: p.toSeq })
      .finally(done);
    const { ok, checked, headSeq, headHash, failure, prunedThrough } = result;
    res.json({ ok, checked, headSeq, headHash, ...(prunedThrough === undefined ? {} : { prunedThrough }), ...(failure ? { failure } : {}) });
  });

  r.get("/v1/integrity/checkpoints", scope, async (req, res) => {
    const query = req.query as Record<string, unknown>;
    const [page] = parseQuery(query, pageSchema);
    const before = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const rows = await listCheckpoints(pool, req.principal!.tenant, page.limit + 1, before);
    const checkpoints = rows.slice(0, page.limit);
    res.json({ checkpoints, nextCursor: rows.length > page.limit ? encodeCursor(checkpoints.at(-1)!.seq) : null });
  });

  r.get("/v1/integrity/checkpoints/latest", scope, async (req, res) => {
    const [latest] = await listCheckpoints(pool, req.principal!.tenant, 1);
    if (!latest) throw new Problem(404, "no_checkpoint", "no checkpoint has been signed for this tenant yet");
    res.json(latest);
  });

  // The public key is meant to be published, so it needs no credentials.
  r.get("/v1/integrity/public-key", (_req, res) => {
    res.json({ algorithm: "Ed25519", logName: deps.logName, keyName: deps.signer.name, keyId: deps.signer.keyId, vkey: deps.signer.vkey, publicKeyPem: deps.signer.publicKeyPem });
  });
  return r;
}
