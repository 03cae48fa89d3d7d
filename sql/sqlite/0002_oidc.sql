-- 0002_oidc: what the OpenID Provider persists. Secrets and tokens are kept
-- as SHA-256 hashes (hex) only; signing keys are encrypted by the provider.
-- Lists are JSON arrays in TEXT; times are fixed-width UTC TEXT as in 0001.

CREATE TABLE oidc_clients (
    id                        TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
    name                      TEXT NOT NULL DEFAULT '',
    secret_hash               TEXT NOT NULL DEFAULT '',
    redirect_uris             TEXT NOT NULL CHECK (json_valid(redirect_uris)),
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
    backchannel_logout_uri    TEXT NOT NULL DEFAULT '',
    public                    INTEGER NOT NULL,
    from_config               INTEGER NOT NULL DEFAULT 0,
    created_at                TEXT NOT NULL,
    updated_at                TEXT NOT NULL
) STRICT;

CREATE TABLE oidc_auth_requests (
    id                    TEXT NOT NULL PRIMARY KEY,
    client_id             TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL,
    scopes                TEXT NOT NULL,
    state                 TEXT NOT NULL DEFAULT '',
    nonce                 TEXT NOT NULL DEFAULT '',
    response_type         TEXT NOT NULL,
    response_mode         TEXT NOT NULL DEFAULT '',
    code_challenge        TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    prompt                TEXT NOT NULL DEFAULT '[]',
    max_age               INTEGER,
    login_hint            TEXT NOT NULL DEFAULT '',
    created_at            TEXT NOT NULL,
    expires_at            TEXT NOT NULL,
    done                  INTEGER NOT NULL DEFAULT 0,
    subject               TEXT NOT NULL DEFAULT '',
    qortal_address        TEXT NOT NULL DEFAULT '',
    auth_time             TEXT,
    amr                   TEXT NOT NULL DEFAULT '[]',
    session_id            TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX oidc_auth_requests_expires_at_idx ON oidc_auth_requests (expires_at);

CREATE TABLE oidc_codes (
    hash            TEXT NOT NULL PRIMARY KEY,
    auth_request_id TEXT NOT NULL REFERENCES oidc_auth_requests (id) ON DELETE CASCADE,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT
) STRICT;
CREATE INDEX oidc_codes_auth_request_id_idx ON oidc_codes (auth_request_id);

CREATE TABLE oidc_sessions (
    id             TEXT NOT NULL PRIMARY KEY,
    subject        TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    qortal_address TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    ended_at       TEXT
) STRICT;
CREATE INDEX oidc_sessions_subject_idx ON oidc_sessions (subject, client_id);
CREATE INDEX oidc_sessions_expires_at_idx ON oidc_sessions (expires_at);

CREATE TABLE oidc_access_tokens (
    id                TEXT NOT NULL PRIMARY KEY,
    client_id         TEXT NOT NULL,
    subject           TEXT NOT NULL,
    qortal_address    TEXT NOT NULL DEFAULT '',
    scopes            TEXT NOT NULL,
    audience          TEXT NOT NULL DEFAULT '[]',
    session_id        TEXT NOT NULL DEFAULT '',
    refresh_family_id TEXT NOT NULL DEFAULT '',
    created_at        TEXT NOT NULL,
    expires_at        TEXT NOT NULL,
    revoked_at        TEXT
) STRICT;
CREATE INDEX oidc_access_tokens_session_idx ON oidc_access_tokens (session_id);
CREATE INDEX oidc_access_tokens_family_idx ON oidc_access_tokens (refresh_family_id);
CREATE INDEX oidc_access_tokens_expires_at_idx ON oidc_access_tokens (expires_at);

CREATE TABLE oidc_refresh_tokens (
    hash           TEXT NOT NULL PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    family_id      TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    subject        TEXT NOT NULL,
    qortal_address TEXT NOT NULL DEFAULT '',
    scopes         TEXT NOT NULL,
    audience       TEXT NOT NULL DEFAULT '[]',
    amr            TEXT NOT NULL DEFAULT '[]',
    auth_time      TEXT NOT NULL,
    session_id     TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    rotated_at     TEXT,
    revoked_at     TEXT
) STRICT;
CREATE INDEX oidc_refresh_tokens_family_idx ON oidc_refresh_tokens (family_id);
CREATE INDEX oidc_refresh_tokens_session_idx ON oidc_refresh_tokens (session_id);
CREATE INDEX oidc_refresh_tokens_expires_at_idx ON oidc_refresh_tokens (expires_at);

CREATE TABLE oidc_signing_keys (
    kid             TEXT NOT NULL PRIMARY KEY,
    alg             TEXT NOT NULL CHECK (alg IN ('RS256', 'ES256', 'EdDSA')),
    private_key_enc BLOB NOT NULL,
    public_jwk      TEXT NOT NULL CHECK (json_valid(public_jwk)),
    created_at      TEXT NOT NULL,
    active_from     TEXT NOT NULL,
    retire_at       TEXT
) STRICT;

-- Key inserts write this row first, which takes SQLite's write lock before
-- the "is there a key already?" read, so concurrent bootstraps serialise.
CREATE TABLE oidc_key_lock (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1)
) STRICT;
INSERT INTO oidc_key_lock (id) VALUES (1);
