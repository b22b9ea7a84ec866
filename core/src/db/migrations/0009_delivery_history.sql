-- Delivery counters of each LogForwardingDestination over time, sampled from the config mirror whenever the
-- operator mirrors a changed status (the forwarder writes its statistics at most every 30 s). Keyed by the
-- resource's uid, so a deleted and recreated destination starts a new history; samples older than the retention
-- (7 days) are removed as new ones arrive.

CREATE TABLE delivery_history (
  uid             text NOT NULL,
  tenant          text NOT NULL,
  at              timestamptz NOT NULL DEFAULT now(),
  delivered       bigint NOT NULL,
  failed          bigint NOT NULL,
  dead_lettered   bigint NOT NULL,
  lag_events      bigint,
  PRIMARY KEY (uid, at)
);
