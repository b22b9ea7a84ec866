-- Tenants, their chain heads, the append-only events table and API keys.

CREATE TABLE tenants (
  id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per tenant, locked FOR UPDATE by whoever appends: this serialises appenders across replicas.
CREATE TABLE chain_heads (
  tenant  text PRIMARY KEY REFERENCES tenants (id),
  seq     bigint NOT NULL DEFAULT 0 CHECK (seq >= 0),
  hash    text NOT NULL DEFAULT repeat('0', 64) CHECK (hash ~ '^[0-9a-f]{64}$')
);

CREATE TABLE events (
  tenant         text NOT NULL REFERENCES tenants (id),
  seq            bigint NOT NULL CHECK (seq >= 1),
  id             uuid NOT NULL,
  occurred_at    timestamptz NOT NULL,
  received_at    timestamptz NOT NULL,
  actor_id       text NOT NULL,
  actor_name     text,
  actor_type     text NOT NULL,
  action         text NOT NULL,
  category       text NOT NULL,
  resource_type  text NOT NULL,
  resource_id    text NOT NULL,
  resource_name  text,
  outcome        text NOT NULL,
  -- The address exactly as hashed; the inet column serves CIDR search.
  client_ip      text,
  client_inet    inet GENERATED ALWAYS AS (client_ip::inet) STORED,
  user_agent     text,
  -- RFC 8785 canonical JSON of the details object, exactly the bytes that were hashed.
  details        text CHECK (details IS NULL OR left(details, 1) = '{'),
  session_id     text,
  request_id     text,
  prev_hash      text NOT NULL,
  hash           text NOT NULL,
  PRIMARY KEY (tenant, seq),
  UNIQUE (tenant, id)
);

CREATE FUNCTION trailkeeper_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit events are append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
  FOR EACH ROW EXECUTE FUNCTION trailkeeper_events_append_only();
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION trailkeeper_events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION trailkeeper_events_append_only();

CREATE TABLE api_keys (
  id          uuid PRIMARY KEY,
  tenant      text NOT NULL REFERENCES tenants (id),
  name        text,
  -- SHA-256 of the whole key: keys carry 256 random bits, so a fast hash is enough.
  key_hash    text NOT NULL UNIQUE,
  key_prefix  text NOT NULL,
  scopes      text[] NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant);
