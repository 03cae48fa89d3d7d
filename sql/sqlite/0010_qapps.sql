-- 0010_qapps: the Q-Apps gateway's catalog of approved apps and the
-- per-user consents given to them. groups_json and actions_json are JSON
-- arrays of strings. resource_key ("SERVICE/lowercased name/identifier")
-- keeps one entry per QDN resource: Qortal names are unique without regard
-- to case. Times are fixed-width UTC TEXT as in 0001.
CREATE TABLE qapps (
    id               TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
    resource_key     TEXT NOT NULL UNIQUE,
    service          TEXT NOT NULL CHECK (service IN ('APP', 'WEBSITE')),
    name             TEXT NOT NULL CHECK (name <> ''),
    identifier       TEXT NOT NULL DEFAULT '',
    title            TEXT NOT NULL DEFAULT '',
    icon             TEXT NOT NULL DEFAULT '',
    groups_json      TEXT NOT NULL DEFAULT '[]',
    actions_json     TEXT NOT NULL DEFAULT '[]',
    pinned_signature TEXT NOT NULL CHECK (pinned_signature <> ''),
    pinned_at        TEXT NOT NULL,
    disabled         INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
) STRICT;

CREATE TABLE qapp_consents (
    app_id     TEXT NOT NULL REFERENCES qapps (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL CHECK (user_id <> ''),
    granted_at TEXT NOT NULL,
    PRIMARY KEY (app_id, user_id)
) STRICT;
