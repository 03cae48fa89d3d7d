-- 0008_rate_limits: sliding-window counters shared by every replica (see
-- the Postgres migration). The embedded store serves one process, which
-- keeps its limits in memory; the table exists so both backends have one
-- schema and pass one conformance suite.
CREATE TABLE rate_limits (
    key          TEXT NOT NULL PRIMARY KEY,
    window_start INTEGER NOT NULL,
    hits         INTEGER NOT NULL CHECK (hits >= 0),
    prev_hits    INTEGER NOT NULL CHECK (prev_hits >= 0),
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX rate_limits_expires_at_idx ON rate_limits (expires_at);
