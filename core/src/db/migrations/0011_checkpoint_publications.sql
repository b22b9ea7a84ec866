-- Witnessing (docs/integrity.md §7): how far each publication target has published a tenant's checkpoints.
-- target is `s3:<RecordingStorage uid>` (or another target kind's prefix); a recreated resource starts afresh and
-- publishes every checkpoint again, which the write-once object names make harmless.
CREATE TABLE checkpoint_publications (
  target          text NOT NULL,
  tenant          text NOT NULL REFERENCES tenants (id),
  -- Every checkpoint of the tenant with seq <= published_seq has been published to the target.
  published_seq   bigint NOT NULL CHECK (published_seq >= 0),
  -- namespace/name, for people reading the table.
  resource        text NOT NULL,
  last_error      text,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (target, tenant)
);
