-- 0004_console: admin console sessions. Only the SHA-256 of the session
-- token is stored. Times are fixed-width UTC TEXT as in 0001.
CREATE TABLE console_sessions (
    token_hash   TEXT NOT NULL PRIMARY KEY CHECK (length(token_hash) = 64),
    address      TEXT NOT NULL CHECK (address <> ''),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
) STRICT;

CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at);
CREATE INDEX console_sessions_last_seen_at ON console_sessions (last_seen_at);
