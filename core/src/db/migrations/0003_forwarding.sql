-- Durable delivery state of LogForwardingDestinations, keyed by the custom resource's uid.

CREATE TABLE delivery_cursors (
  destination_uid  text PRIMARY KEY,
  tenant           text NOT NULL,
  -- namespace/name, for people reading the table.
  resource         text NOT NULL,
  -- Every event of the tenant with seq <= cursor_seq has been delivered, dead-lettered or filtered out.
  cursor_seq       bigint NOT NULL CHECK (cursor_seq >= 0),
  -- Running totals, kept here so that status survives restarts and leader changes.
  delivered        bigint NOT NULL DEFAULT 0,
  failed_attempts  bigint NOT NULL DEFAULT 0,
  dead_lettered    bigint NOT NULL DEFAULT 0,
  last_delivered_at timestamptz,
  last_error       text,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dead_letters (
  id               bigserial PRIMARY KEY,
  destination_uid  text NOT NULL,
  tenant           text NOT NULL,
  seq              bigint NOT NULL,
  event_id         uuid NOT NULL,
  reason           text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (destination_uid, seq)
);
