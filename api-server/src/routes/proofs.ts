import { Router } from "express";
import { z } from "zod";
import type { Pool } from "@trailkeeper/core/db/pool.ts";
import { requireScope } from "../auth.ts";
import { fieldErrors, Problem } from "../problem.ts";
import type { ApiKeyResolver } from "../services/api-keys.ts";
import { multiProofBundleFormat, proofBundleFormat } from "@trailkeeper/core/integrity/proof-bundle.ts";
import { eventInclusionProof, maxBundleEvents, proofBundle, treeConsistencyProof } from "../services/proofs.ts";
import { jsonBody } from "./json-body.ts";
import { parseQuery } from "./query-params.ts";

const treeSize = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const inclusionParams = z.object({ size: treeSize.optional() });
const consistencyParams = z.object({ from: treeSize, to: treeSize.optional() });
const bundleRequest = z.strictObject({
  seqs: z.array(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)).min(1).max(maxBundleEvents),
  size: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  format: z.enum([proofBundleFormat, multiProofBundleFormat], { message: `format must be ${proofBundleFormat} or ${multiProofBundleFormat}` }).optional(),
});

/** Merkle inclusion and consistency proofs (docs/integrity.md §5, docs/api.md). */
export function proofsRouter(deps: { pool: Pool; resolver: ApiKeyResolver }): Router {
  const r = Router();
  const scope = requireScope(deps.resolver, "integrity:read");

  r.get("/v1/events/:id/proof", scope, async (req, res) => {
    const [p] = parseQuery(req.query as Record<string, unknown>, inclusionParams);
    const id = String(req.params.id);
    if (!z.uuid().safeParse(id).success) throw new Problem(404, "unknown_event", `no event ${id}`);
    res.json(await eventInclusionProof(deps.pool, req.principal!.tenant, id.toLowerCase(), p.size));
  });

  r.get("/v1/integrity/consistency", scope, async (req, res) => {
    const [p] = parseQuery(req.query as Record<string, unknown>, consistencyParams);
    res.json(await treeConsistencyProof(deps.pool, req.principal!.tenant, p.from, p.to));
  });
  r.post("/v1/integrity/proofs", scope, jsonBody(), async (req, res) => {
    const body = bundleRequest.safeParse(req.body);
    if (!body.success) throw new Problem(400, "invalid_request", "the request body is not valid", fieldErrors(body.error));
    res.json(await proofBundle(deps.pool, req.principal!.tenant, body.data.seqs, body.data.size, body.data.format));
  });
  return r;
}
