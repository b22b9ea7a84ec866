-- A read-only copy of each LogForwardingDestination and RecordingStorage, written by the operator's leader from its
-- watch cache, so the API can show them per tenant without Kubernetes access. It holds no secret value: only the
-- fields listed here, the endpoint stripped of user info and query string, and the resource's status.

CREATE TABLE config_mirror (
  kind             text NOT NULL CHECK (kind IN ('LogForwardingDestination', 'RecordingStorage')),
  namespace        text NOT NULL,
  name             text NOT NULL,
  uid              text NOT NULL,
  tenant           text NOT NULL,
  generation       bigint NOT NULL,
  -- The destination block in use, or 's3' for a RecordingStorage.
  type             text,
  enabled          boolean NOT NULL,
  format           text,
  endpoint         text,
  -- Other non-secret settings worth showing (bucket, region, prefix, site, transport …).
  details          jsonb NOT NULL DEFAULT '{}',
  conditions       jsonb NOT NULL DEFAULT '[]',
  last_check       jsonb,
  delivery         jsonb,
  last_error       text,
  created_at       timestamptz,
  mirrored_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, namespace, name)
);
CREATE INDEX config_mirror_tenant ON config_mirror (tenant, kind, namespace, name);

-- Dead letters are read per destination, newest first, a page at a time.
CREATE INDEX dead_letters_destination_id ON dead_letters (destination_uid, id);
