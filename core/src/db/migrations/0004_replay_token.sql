-- The replay annotation value last applied to a destination, so that it is applied once, not on every restart.
ALTER TABLE delivery_cursors ADD COLUMN applied_replay text;
