-- Search indexes, the free-text expression, and signed checkpoints.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE OR REPLACE FUNCTION trailkeeper_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- CREATE INDEX runs expression functions with a restricted search_path (PostgreSQL 17+), so these
-- functions pin the search_path they were created with.

-- Scalar values (strings, numbers, booleans) anywhere inside details, space-separated; keys are not included.
CREATE FUNCTION trailkeeper_details_text(d text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path FROM CURRENT AS $$
  SELECT coalesce(string_agg(v #>> '{}', ' '), '')
  FROM jsonb_path_query(coalesce(d, '{}')::jsonb, 'strict $.**') AS v
  WHERE jsonb_typeof(v) IN ('string', 'number', 'boolean')
$$;

-- What free-text search (`q`) matches against, lower-cased.
CREATE FUNCTION trailkeeper_search_text(action text, actor_id text, actor_name text, resource_type text,
                                        resource_id text, resource_name text, details text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path FROM CURRENT AS $$
  SELECT lower(action || ' ' || actor_id || ' ' || coalesce(actor_name, '') || ' ' || resource_type || ' ' ||
               resource_id || ' ' || coalesce(resource_name, '') || ' ' || trailkeeper_details_text(details))
$$;

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

-- A signed statement that a tenant's chain had `seq` events ending in `hash` at `time`.
CREATE TABLE checkpoints (
  tenant     text NOT NULL REFERENCES tenants (id),
  seq        bigint NOT NULL CHECK (seq >= 1),
  hash       text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  time       timestamptz NOT NULL,
  key_id     text NOT NULL,
  signature  text NOT NULL,
  note       text NOT NULL,
  PRIMARY KEY (tenant, seq)
);

CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
  FOR EACH ROW EXECUTE FUNCTION trailkeeper_events_append_only();
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
  FOR EACH ROW EXECUTE FUNCTION trailkeeper_events_append_only();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION trailkeeper_events_append_only();
