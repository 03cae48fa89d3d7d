-- 0008_rate_limits: sliding-window counters that every replica shares, so N
-- replicas give one budget, not N (login per IP and per address, /authorize
-- per IP, failed admin credentials, onboarding pacing). One row per key
-- (limiter name + key) holding the current fixed window's hits and the
-- previous window's, from which the limiter estimates the hits of the last
-- window length; updated by one INSERT ... ON CONFLICT per check.
-- UNLOGGED: a counter is not worth a WAL flush on the login path (Postgres
-- does not wait for the disk when a transaction touched only unlogged
-- tables); a Postgres crash empties the table, which only forgets the
-- current windows. Windows are Unix milliseconds, so both dialects and any
-- clock layout agree.
CREATE UNLOGGED TABLE rate_limits (
    key          text PRIMARY KEY,
    window_start bigint NOT NULL,
    hits         integer NOT NULL CHECK (hits >= 0),
    prev_hits    integer NOT NULL CHECK (prev_hits >= 0),
    expires_at   bigint NOT NULL
);
CREATE INDEX rate_limits_expires_at_idx ON rate_limits (expires_at);
