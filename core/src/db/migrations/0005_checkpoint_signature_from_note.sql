-- A checkpoint's signature is the base64 on its note's signature line; nothing read the separate copy.
ALTER TABLE checkpoints DROP COLUMN signature;
