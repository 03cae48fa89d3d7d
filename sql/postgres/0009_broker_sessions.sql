-- 0009_broker_sessions: the broker's own browser session (SSO). The cookie
-- holds a random token; only its SHA-256 is stored. id is the public handle
-- /account shows and ends sessions by. OIDC sessions (one per relying party
-- login) remember the broker session they were opened from, so ending the
-- broker session ends them too (with back-channel logout).
CREATE TABLE broker_sessions (
    id             text PRIMARY KEY,
    token_hash     text NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    qortal_address text NOT NULL CHECK (qortal_address <> ''),
    auth_time      timestamptz NOT NULL,
    created_at     timestamptz NOT NULL,
    last_seen_at   timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    user_agent     text NOT NULL DEFAULT ''
);

CREATE INDEX broker_sessions_address ON broker_sessions (qortal_address);
CREATE INDEX broker_sessions_expires_at ON broker_sessions (expires_at);

ALTER TABLE oidc_sessions ADD COLUMN broker_session_id text NOT NULL DEFAULT '';
CREATE INDEX oidc_sessions_broker_session ON oidc_sessions (broker_session_id) WHERE broker_session_id <> '';
CREATE INDEX oidc_sessions_address ON oidc_sessions (qortal_address) WHERE ended_at IS NULL;
