-- A Merkle tree per tenant (RFC 6962) over the event hashes in seq order; see docs/adr/0006-merkle-tree.md.

-- The tree as the appender needs it, kept with the chain head in the same row and transaction: its size and the
-- concatenated 32-byte roots of its complete subtrees (one per set bit of tree_size, largest first). tree_size
-- below seq means the tenant's older events still await the back-fill job (existing tenants start at 0).
ALTER TABLE chain_heads
  ADD COLUMN tree_size bigint NOT NULL DEFAULT 0 CHECK (tree_size >= 0),
  ADD COLUMN tree_frontier bytea NOT NULL DEFAULT '\x'::bytea CHECK (length(tree_frontier) % 32 = 0);

-- Complete subtree hashes at every 4th level (the 2^level leaves from idx × 2^level), written as appends
-- complete them, so that a proof reads at most 2^3 hashes per node it needs.
CREATE TABLE merkle_nodes (
  tenant  text NOT NULL REFERENCES tenants (id),
  level   smallint NOT NULL CHECK (level > 0 AND level % 4 = 0),
  idx     bigint NOT NULL CHECK (idx >= 0),
  hash    bytea NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (tenant, level, idx)
);

CREATE TRIGGER merkle_nodes_no_update BEFORE UPDATE ON merkle_nodes
  FOR EACH ROW EXECUTE FUNCTION trailkeeper_events_append_only();
CREATE TRIGGER merkle_nodes_no_delete BEFORE DELETE ON merkle_nodes
  FOR EACH ROW EXECUTE FUNCTION trailkeeper_events_append_only();
CREATE TRIGGER merkle_nodes_no_truncate BEFORE TRUNCATE ON merkle_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION trailkeeper_events_append_only();

-- The Merkle root a checkpoint signs (lowercase hex); NULL for checkpoints signed before the tree existed,
-- whose note carries the chain head as its root hash.
ALTER TABLE checkpoints ADD COLUMN root text CHECK (root ~ '^[0-9a-f]{64}$');
