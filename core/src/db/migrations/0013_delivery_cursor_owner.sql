-- Forwarding across operator replicas (docs/operator.md, "Forwarding across replicas"): the replica that forwards a
-- destination holds it here, with an expiry in the database's clock, so a replica takes a destination over only
-- when the previous owner released it or stopped renewing. Delivery commits also check the owner.
ALTER TABLE delivery_cursors ADD COLUMN owner text;
ALTER TABLE delivery_cursors ADD COLUMN owner_expires_at timestamptz;
