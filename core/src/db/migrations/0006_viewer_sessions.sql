-- Console sign-in: one-time sign-in links and viewer sessions. Only SHA-256 hashes of the secrets are stored:
-- each secret carries 256 random bits, so a fast hash is enough and a database dump signs no one in.

CREATE TABLE viewer_links (
  id          uuid PRIMARY KEY,
  tenant      text NOT NULL REFERENCES tenants (id),
  token_hash  text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  scopes      text[] NOT NULL CHECK (cardinality(scopes) > 0),
  subject     text,
  -- Who minted it: 'admin' or the id of the API key holding viewer:create.
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  revoked_at  timestamptz,
  CHECK (expires_at > created_at)
);
CREATE INDEX viewer_links_tenant ON viewer_links (tenant, created_at);

CREATE TABLE viewer_sessions (
  id          uuid PRIMARY KEY,
  tenant      text NOT NULL REFERENCES tenants (id),
  token_hash  text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  scopes      text[] NOT NULL CHECK (cardinality(scopes) > 0),
  via         text NOT NULL CHECK (via IN ('api_key', 'link')),
  -- The actor recorded for what the session does: the API key's id or the link's subject.
  subject     text NOT NULL,
  api_key_id  uuid REFERENCES api_keys (id),
  link_id     uuid REFERENCES viewer_links (id),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz,
  CHECK ((via = 'api_key') = (api_key_id IS NOT NULL) AND (via = 'link') = (link_id IS NOT NULL))
);
CREATE INDEX viewer_sessions_link ON viewer_sessions (link_id) WHERE link_id IS NOT NULL;
