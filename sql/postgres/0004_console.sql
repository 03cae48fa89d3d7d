-- 0004_console: admin console sessions. Only the SHA-256 of the session
-- token is stored.
CREATE TABLE console_sessions (
    token_hash   text PRIMARY KEY CHECK (length(token_hash) = 64),
    address      text NOT NULL CHECK (address <> ''),
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);

CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at);
CREATE INDEX console_sessions_last_seen_at ON console_sessions (last_seen_at);
