-- Free text and fewer b-trees on the append path (issue 16, ADR 9).
--
-- Free-text search no longer reads a trigram index on `events`, which PostgreSQL had to update for every event
-- appended (it kept a COPY into `events` at about a tenth of a key-only COPY). The search document of each event is
-- stored in `search_documents` by the API server's search indexer, in batches, after the append; its trigram index
-- is maintained there. `search_index_heads` records, per tenant, that every event 1..seq has its document. A search
-- reads documents for events at or below that mark and recomputes the document of the few events above it, so
-- results are complete the moment an event is acknowledged. The side table is derived data: it can be rebuilt from
-- `events` at any time and neither the chain, the Merkle tree nor verification reads it.
CREATE TABLE search_documents (
  tenant       text NOT NULL,
  seq          bigint NOT NULL,
  -- The event's partition key, so that joining back to `events` touches only the partition that holds it.
  received_at  timestamptz NOT NULL,
  doc          text NOT NULL,
  PRIMARY KEY (tenant, seq)
);
CREATE INDEX search_documents_trgm ON search_documents USING gin (doc gin_trgm_ops);

CREATE TABLE search_index_heads (
  tenant  text PRIMARY KEY REFERENCES tenants (id),
  seq     bigint NOT NULL CHECK (seq >= 0)
);

-- Per tenant and hour of occurredAt (UTC), the highest seq of an indexed event that occurred in that hour, kept by
-- the search indexer with the documents. A time-window search starts its newest-first walk at the highest seq any
-- event in the window can have, instead of at the head (a day far back would otherwise walk every newer event).
-- Stale rows (events pruned since) only make that bound looser, never wrong.
CREATE TABLE search_time_buckets (
  tenant   text NOT NULL,
  hour     timestamptz NOT NULL,
  max_seq  bigint NOT NULL,
  PRIMARY KEY (tenant, hour)
);

-- Free text is served by search_documents now (the document is still trailkeeper_search_text of the event).
DROP INDEX events_search_trgm;
-- A category is a set of action prefixes (core/src/events/categories.ts): the action index serves it.
DROP INDEX events_category;
-- A b-tree serves `client_inet <<= cidr` as a range (PostgreSQL's network_subset_support) and costs the append
-- path less than the GiST index did; the tenant leads, as in every other search index.
DROP INDEX events_client_inet;
CREATE INDEX events_client_inet ON events (tenant, client_inet) WHERE client_inet IS NOT NULL;

-- Pruning removes the documents of pruned events with them.
CREATE OR REPLACE FUNCTION trailkeeper_prune_events(p_tenant text, p_through bigint, p_cutoff timestamptz) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  removed bigint;
  p record;
  still_there boolean;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM retention_boundaries WHERE tenant = p_tenant AND seq = p_through) THEN
    RAISE EXCEPTION 'no sealed retention boundary at seq % for tenant %', p_through, p_tenant USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF EXISTS (SELECT 1 FROM tenant_retention WHERE tenant = p_tenant AND legal_hold) THEN
    RAISE EXCEPTION 'tenant % is under legal hold', p_tenant USING ERRCODE = 'insufficient_privilege';
  END IF;
  DELETE FROM events WHERE tenant = p_tenant AND seq <= p_through;
  GET DIAGNOSTICS removed = ROW_COUNT;
  DELETE FROM search_documents WHERE tenant = p_tenant AND seq <= p_through;
  FOR p IN SELECT name FROM event_partitions WHERE range_end <= p_cutoff ORDER BY range_start LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', p.name) INTO still_there;
    IF NOT still_there THEN
      EXECUTE format('ALTER TABLE events DETACH PARTITION %I', p.name);
      EXECUTE format('DROP TABLE %I', p.name);
      DELETE FROM event_partitions WHERE name = p.name;
    END IF;
  END LOOP;
  RETURN removed;
END;
$$;
REVOKE ALL ON FUNCTION trailkeeper_prune_events(text, bigint, timestamptz) FROM PUBLIC;
