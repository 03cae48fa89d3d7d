-- 0002_oidc: what the OpenID Provider persists. Secrets and tokens are kept
-- as SHA-256 hashes (hex) only; signing keys are encrypted by the provider.
-- Lists (scopes, redirect URIs, ...) are JSON arrays in text columns, the
-- same in both backends.

CREATE TABLE oidc_clients (
    id                        text COLLATE "C" PRIMARY KEY CHECK (id <> ''),
    name                      text NOT NULL DEFAULT '',
    secret_hash               text NOT NULL DEFAULT '',
    redirect_uris             text NOT NULL,
    post_logout_redirect_uris text NOT NULL DEFAULT '[]',
    backchannel_logout_uri    text NOT NULL DEFAULT '',
    public                    boolean NOT NULL,
    from_config               boolean NOT NULL DEFAULT false,
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL
);

CREATE TABLE oidc_auth_requests (
    id                    text PRIMARY KEY,
    client_id             text NOT NULL,
    redirect_uri          text NOT NULL,
    scopes                text NOT NULL,
    state                 text NOT NULL DEFAULT '',
    nonce                 text NOT NULL DEFAULT '',
    response_type         text NOT NULL,
    response_mode         text NOT NULL DEFAULT '',
    code_challenge        text NOT NULL DEFAULT '',
    code_challenge_method text NOT NULL DEFAULT '',
    prompt                text NOT NULL DEFAULT '[]',
    max_age               bigint,
    login_hint            text NOT NULL DEFAULT '',
    created_at            timestamptz NOT NULL,
    expires_at            timestamptz NOT NULL,
    done                  boolean NOT NULL DEFAULT false,
    subject               text NOT NULL DEFAULT '',
    qortal_address        text NOT NULL DEFAULT '',
    auth_time             timestamptz,
    amr                   text NOT NULL DEFAULT '[]',
    session_id            text NOT NULL DEFAULT ''
);
CREATE INDEX oidc_auth_requests_expires_at_idx ON oidc_auth_requests (expires_at);

CREATE TABLE oidc_codes (
    hash            text PRIMARY KEY,
    auth_request_id text NOT NULL REFERENCES oidc_auth_requests (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz
);
CREATE INDEX oidc_codes_auth_request_id_idx ON oidc_codes (auth_request_id);

CREATE TABLE oidc_sessions (
    id             text PRIMARY KEY,
    subject        text NOT NULL,
    client_id      text NOT NULL,
    qortal_address text NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    ended_at       timestamptz
);
CREATE INDEX oidc_sessions_subject_idx ON oidc_sessions (subject, client_id);
CREATE INDEX oidc_sessions_expires_at_idx ON oidc_sessions (expires_at);

CREATE TABLE oidc_access_tokens (
    id                text PRIMARY KEY,
    client_id         text NOT NULL,
    subject           text NOT NULL,
    qortal_address    text NOT NULL DEFAULT '',
    scopes            text NOT NULL,
    audience          text NOT NULL DEFAULT '[]',
    session_id        text NOT NULL DEFAULT '',
    refresh_family_id text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    revoked_at        timestamptz
);
CREATE INDEX oidc_access_tokens_session_idx ON oidc_access_tokens (session_id);
CREATE INDEX oidc_access_tokens_family_idx ON oidc_access_tokens (refresh_family_id);
CREATE INDEX oidc_access_tokens_expires_at_idx ON oidc_access_tokens (expires_at);

CREATE TABLE oidc_refresh_tokens (
    hash           text PRIMARY KEY,
    id             text NOT NULL UNIQUE,
    family_id      text NOT NULL,
    client_id      text NOT NULL,
    subject        text NOT NULL,
    qortal_address text NOT NULL DEFAULT '',
    scopes         text NOT NULL,
    audience       text NOT NULL DEFAULT '[]',
    amr            text NOT NULL DEFAULT '[]',
    auth_time      timestamptz NOT NULL,
    session_id     text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    rotated_at     timestamptz,
    revoked_at     timestamptz
);
CREATE INDEX oidc_refresh_tokens_family_idx ON oidc_refresh_tokens (family_id);
CREATE INDEX oidc_refresh_tokens_session_idx ON oidc_refresh_tokens (session_id);
CREATE INDEX oidc_refresh_tokens_expires_at_idx ON oidc_refresh_tokens (expires_at);

CREATE TABLE oidc_signing_keys (
    kid             text PRIMARY KEY,
    alg             text NOT NULL CHECK (alg IN ('RS256', 'ES256', 'EdDSA')),
    private_key_enc bytea NOT NULL,
    public_jwk      text NOT NULL,
    created_at      timestamptz NOT NULL,
    active_from     timestamptz NOT NULL,
    retire_at       timestamptz
);

-- One fixed row that key inserts lock first (SELECT ... FOR UPDATE), so two
-- replicas bootstrapping or rotating at once are serialised and the second
-- sees the first one's key.
CREATE TABLE oidc_key_lock (
    id integer PRIMARY KEY CHECK (id = 1)
);
INSERT INTO oidc_key_lock (id) VALUES (1);
