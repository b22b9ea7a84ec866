-- Time-partitioned events, retention per tenant, legal hold and sealed pruning (docs/adr/0008-partitions-and-retention.md).

-- Every partition of events, as trailkeeper_ensure_event_partitions created it (the default partition is not listed).
-- range_start is -infinity for the partition that holds the events stored before partitioning.
CREATE TABLE event_partitions (
  name         text PRIMARY KEY,
  range_start  timestamptz NOT NULL,
  range_end    timestamptz NOT NULL CHECK (range_end > range_start)
);

-- events becomes a table partitioned by month of received_at. A unique index on a partitioned table must contain
-- the partition key, so the primary key is (tenant, seq, received_at): uniqueness of (tenant, seq) is kept by the
-- chain head (appends move it under its row lock or on its exact old value) and proven by the hash chain, and ids
-- are looked up under the same lock (docs/adr/0008-partitions-and-retention.md).
ALTER TABLE events RENAME TO events_before_partitioning;
ALTER TABLE events_before_partitioning RENAME CONSTRAINT events_pkey TO events_before_partitioning_pkey;
ALTER TABLE events_before_partitioning RENAME CONSTRAINT events_tenant_id_key TO events_before_partitioning_tenant_id_key;
ALTER TABLE events_before_partitioning RENAME CONSTRAINT events_tenant_fkey TO events_before_partitioning_tenant_fkey;
DROP TRIGGER events_no_update ON events_before_partitioning;
DROP TRIGGER events_no_delete ON events_before_partitioning;
DROP TRIGGER events_no_truncate ON events_before_partitioning;
ALTER INDEX events_search_trgm RENAME TO events_before_partitioning_search_trgm;
ALTER INDEX events_action RENAME TO events_before_partitioning_action;
ALTER INDEX events_category RENAME TO events_before_partitioning_category;
ALTER INDEX events_actor_id RENAME TO events_before_partitioning_actor_id;
ALTER INDEX events_actor_name RENAME TO events_before_partitioning_actor_name;
ALTER INDEX events_resource_type RENAME TO events_before_partitioning_resource_type;
ALTER INDEX events_resource_id RENAME TO events_before_partitioning_resource_id;
ALTER INDEX events_resource_name RENAME TO events_before_partitioning_resource_name;
ALTER INDEX events_occurred_at RENAME TO events_before_partitioning_occurred_at;
ALTER INDEX events_client_inet RENAME TO events_before_partitioning_client_inet;

CREATE TABLE events (LIKE events_before_partitioning INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS)
  PARTITION BY RANGE (received_at);
ALTER TABLE events ADD FOREIGN KEY (tenant) REFERENCES tenants (id);

-- Appends never fail for want of a partition: a received_at outside every range lands here (and the maintenance
-- job then leaves that month to it, see trailkeeper_ensure_event_partitions).
CREATE TABLE events_default PARTITION OF events DEFAULT;

-- Creates the monthly partitions that cover [p_from, p_to) and do not exist yet; returns the names created.
CREATE FUNCTION trailkeeper_ensure_event_partitions(p_from timestamptz, p_to timestamptz) RETURNS SETOF text
  LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  m timestamptz := date_trunc('month', p_from AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  n timestamptz;
  part text;
BEGIN
  WHILE m < p_to LOOP
    n := ((m AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
    part := 'events_' || to_char(m AT TIME ZONE 'UTC', '"y"YYYY"m"MM');
    IF NOT EXISTS (SELECT 1 FROM event_partitions WHERE range_start < n AND range_end > m) THEN
      BEGIN
        EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)', part, m, n);
        -- Statement-level triggers are not inherited: TRUNCATE of the partition itself is refused here.
        EXECUTE format('CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION trailkeeper_events_append_only()', part);
        INSERT INTO event_partitions (name, range_start, range_end) VALUES (part, m, n);
        RETURN NEXT part;
      EXCEPTION WHEN check_violation THEN
        -- The default partition already holds events of this month: they stay there, and so do the month's next ones.
        RAISE WARNING 'events partition % not created: the default partition holds events of that month', part;
      END;
    END IF;
    m := n;
  END LOOP;
END;
$$;

-- Events stored before partitioning stay where they are, as one partition that ends with the month of the newest.
DO $$
DECLARE
  newest timestamptz;
  upper_bound timestamptz;
BEGIN
  SELECT max(received_at) INTO newest FROM events_before_partitioning;
  IF newest IS NULL THEN
    DROP TABLE events_before_partitioning;
  ELSE
    upper_bound := ((date_trunc('month', newest AT TIME ZONE 'UTC')) + interval '1 month') AT TIME ZONE 'UTC';
    -- Its own keys give way to the parent's (built below); the constraint lets ATTACH skip its validating scan.
    ALTER TABLE events_before_partitioning DROP CONSTRAINT events_before_partitioning_pkey;
    ALTER TABLE events_before_partitioning DROP CONSTRAINT events_before_partitioning_tenant_id_key;
    ALTER TABLE events_before_partitioning DROP CONSTRAINT events_before_partitioning_tenant_fkey;
    EXECUTE format('ALTER TABLE events_before_partitioning ADD CONSTRAINT events_before_partitioning_range CHECK (received_at IS NOT NULL AND received_at < %L)', upper_bound);
    EXECUTE format('ALTER TABLE events ATTACH PARTITION events_before_partitioning FOR VALUES FROM (MINVALUE) TO (%L)', upper_bound);
    ALTER TABLE events_before_partitioning DROP CONSTRAINT events_before_partitioning_range;
    INSERT INTO event_partitions (name, range_start, range_end) VALUES ('events_before_partitioning', '-infinity', upper_bound);
    CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events_before_partitioning
      FOR EACH STATEMENT EXECUTE FUNCTION trailkeeper_events_append_only();
  END IF;
END;
$$;

-- The keys and search indexes, on the parent: an index already on the attached partition with the same definition
-- is attached rather than built again.
ALTER TABLE events ADD PRIMARY KEY (tenant, seq, received_at);
CREATE INDEX events_tenant_id ON events (tenant, id);
CREATE INDEX events_search_trgm ON events USING gin
  (trailkeeper_search_text(action, actor_id, actor_name, resource_type, resource_id, resource_name, details) gin_trgm_ops);
CREATE INDEX events_action ON events (tenant, action text_pattern_ops, seq);
CREATE INDEX events_category ON events (tenant, category, seq);
CREATE INDEX events_actor_id ON events (tenant, actor_id, seq);
CREATE INDEX events_actor_name ON events (tenant, actor_name, seq) WHERE actor_name IS NOT NULL;
CREATE INDEX events_resource_type ON events (tenant, resource_type, seq);
CREATE INDEX events_resource_id ON events (tenant, resource_id, seq);
CREATE INDEX events_resource_name ON events (tenant, resource_name, seq) WHERE resource_name IS NOT NULL;
CREATE INDEX events_occurred_at ON events (tenant, occurred_at);
CREATE INDEX events_client_inet ON events USING gist (client_inet inet_ops) WHERE client_inet IS NOT NULL;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
  FOR EACH ROW EXECUTE FUNCTION trailkeeper_events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION trailkeeper_events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events_default
  FOR EACH STATEMENT EXECUTE FUNCTION trailkeeper_events_append_only();

SELECT trailkeeper_ensure_event_partitions(now() - interval '1 month', now() + interval '3 months');

-- Retention and legal hold per tenant. Without a row, events are kept forever.
CREATE TABLE tenant_retention (
  tenant             text PRIMARY KEY REFERENCES tenants (id),
  retention_days     integer CHECK (retention_days IS NULL OR retention_days >= 1),
  legal_hold         boolean NOT NULL DEFAULT false,
  legal_hold_reason  text,
  updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Each prune: the tenant's events 1..seq were removed. The boundary is sealed by the signed checkpoint of that seq
-- (the foreign key) and recorded in the chain by the audit.retention.prune event `event_id`, appended before the
-- rows were deleted, in the same transaction.
CREATE TABLE retention_boundaries (
  tenant     text NOT NULL REFERENCES tenants (id),
  seq        bigint NOT NULL CHECK (seq >= 1),
  hash       text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  event_id   uuid NOT NULL,
  pruned_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, seq),
  FOREIGN KEY (tenant, seq) REFERENCES checkpoints (tenant, seq)
);
CREATE TRIGGER retention_boundaries_no_update BEFORE UPDATE ON retention_boundaries
  FOR EACH ROW EXECUTE FUNCTION trailkeeper_events_append_only();
CREATE TRIGGER retention_boundaries_no_delete BEFORE DELETE ON retention_boundaries
  FOR EACH ROW EXECUTE FUNCTION trailkeeper_events_append_only();
CREATE TRIGGER retention_boundaries_no_truncate BEFORE TRUNCATE ON retention_boundaries
  FOR EACH STATEMENT EXECUTE FUNCTION trailkeeper_events_append_only();

-- An event row may be deleted only at or below a recorded, sealed boundary of its tenant, and never under legal
-- hold: whoever deletes, the append-only rule holds above the boundary. The triggers are not lifted for pruning.
CREATE FUNCTION trailkeeper_events_delete_guard() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM retention_boundaries b WHERE b.tenant = OLD.tenant AND b.seq >= OLD.seq)
     AND NOT EXISTS (SELECT 1 FROM tenant_retention r WHERE r.tenant = OLD.tenant AND r.legal_hold) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'events are append-only: event % of tenant % is not below a sealed retention boundary (or the tenant is under legal hold)', OLD.seq, OLD.tenant
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION trailkeeper_events_delete_guard();

-- The one way events leave the table: removes the tenant's events 1..p_through once that boundary is recorded,
-- then drops partitions that are left empty and lie wholly before the retention cutoff. Runs with its owner's
-- rights (SECURITY DEFINER), so the application role needs no DELETE on events (docs/operations.md, "Retention").
CREATE FUNCTION trailkeeper_prune_events(p_tenant text, p_through bigint, p_cutoff timestamptz) RETURNS bigint
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
