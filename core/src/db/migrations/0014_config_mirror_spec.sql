-- The resource's spec, so the console's Edit form starts from everything the resource holds and Save sends it all
-- back (issue #12). A spec names Secrets but holds no Secret value; the query string and fragment of its URL fields,
-- where a token could be, are cut before it is stored, and spec_redacted lists the paths cut
-- (core/src/crd/mirrored-spec.ts). NULL until the operator mirrors the resource again (every new leader does).
ALTER TABLE config_mirror ADD COLUMN spec jsonb;
ALTER TABLE config_mirror ADD COLUMN spec_redacted text[] NOT NULL DEFAULT '{}';
