-- 0001_init: mappings, audit log and challenges.
-- Times are TEXT in UTC with exactly six fractional digits
-- ('2006-01-02T15:04:05.000000Z'): fixed width makes text order equal time
-- order, so comparisons like expires_at > ? are correct, and microseconds
-- match what Postgres keeps.

CREATE TABLE mappings (
    qortal_address    TEXT NOT NULL PRIMARY KEY CHECK (qortal_address <> ''),
    nextcloud_user_id TEXT NOT NULL UNIQUE CHECK (nextcloud_user_id <> ''),
    display_name      TEXT NOT NULL DEFAULT '',
    email             TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL CHECK (status IN ('linked', 'invited', 'blocked')),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) STRICT;
-- Lookups by either side use the primary key and the UNIQUE index. The admin
-- search (q) is a substring match that no index can serve; a scan over one
-- Nextcloud instance's users is cheap.

CREATE TABLE audit_log (
    -- AUTOINCREMENT: ids are never reused, so the id-based cursor stays
    -- meaningful even if old entries are ever pruned.
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
) STRICT;
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_subject_idx ON audit_log (subject, id DESC);

CREATE TABLE challenges (
    id              TEXT NOT NULL PRIMARY KEY,
    purpose         TEXT NOT NULL,
    qortal_address  TEXT NOT NULL DEFAULT '',
    message         TEXT NOT NULL,
    auth_request_id TEXT NOT NULL DEFAULT '',
    client_id       TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT
) STRICT;
-- Serves DeleteExpiredChallenges.
CREATE INDEX challenges_expires_at_idx ON challenges (expires_at);
