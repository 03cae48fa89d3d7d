-- 0001_init: mappings, audit log and challenges.
-- Table names are unqualified on purpose: they land in the first schema of
-- search_path, which is how tests isolate themselves (one schema per test).

CREATE TABLE mappings (
    -- COLLATE "C": byte order, so keyset pagination orders exactly as the
    -- SQLite backend does, whatever the database's default collation.
    qortal_address    text COLLATE "C" NOT NULL,
    nextcloud_user_id text COLLATE "C" NOT NULL,
    display_name      text NOT NULL DEFAULT '',
    email             text NOT NULL DEFAULT '',
    status            text NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    -- The store maps violations of these two constraints, by name, to
    -- ErrAddressTaken and ErrUserTaken: keep the names in sync with the code.
    CONSTRAINT mappings_pkey PRIMARY KEY (qortal_address),
    CONSTRAINT mappings_nextcloud_user_id_key UNIQUE (nextcloud_user_id),
    CONSTRAINT mappings_status_check CHECK (status IN ('linked', 'invited', 'blocked')),
    CONSTRAINT mappings_qortal_address_check CHECK (qortal_address <> ''),
    CONSTRAINT mappings_nextcloud_user_id_check CHECK (nextcloud_user_id <> '')
);
-- Lookups by either side use the primary key and the unique index above.
-- The admin search (q) is lower(column) LIKE '%term%' over four columns; a
-- leading wildcard defeats any btree, and pg_trgm (which would serve it) is
-- an extension we cannot assume is installed. A sequential scan over one
-- Nextcloud instance's users is cheap, so no search index is created.

CREATE TABLE audit_log (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL,
    actor   text NOT NULL,
    action  text NOT NULL,
    subject text NOT NULL DEFAULT '',
    -- json, not jsonb: keeps the detail byte-for-byte as written.
    detail  json NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_subject_idx ON audit_log (subject, id DESC);

CREATE TABLE challenges (
    id              text PRIMARY KEY,
    purpose         text NOT NULL,
    qortal_address  text NOT NULL DEFAULT '',
    message         text NOT NULL,
    auth_request_id text NOT NULL DEFAULT '',
    client_id       text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz
);
-- Serves DeleteExpiredChallenges.
CREATE INDEX challenges_expires_at_idx ON challenges (expires_at);
