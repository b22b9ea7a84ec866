-- The GitOps tool that owns a mirrored resource (Argo CD or Flux, from its tracking label or annotation), so the API
-- and the console show it read-only with the reason: {"tool": "argocd"|"flux", "reason": "label …=…"}, or NULL.
ALTER TABLE config_mirror ADD COLUMN managed_by jsonb;
