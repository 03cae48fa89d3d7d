-- 0010_qapps: the Q-Apps gateway's catalog of approved apps and the
-- per-user consents given to them. groups_json and actions_json are JSON
-- arrays of strings (text, as in SQLite, so one query serves both).
-- resource_key ("SERVICE/lowercased name/identifier") keeps one entry per
-- QDN resource: Qortal names are unique without regard to case.
CREATE TABLE qapps (
    id               text PRIMARY KEY CHECK (id <> ''),
    resource_key     text NOT NULL UNIQUE,
    service          text NOT NULL CHECK (service IN ('APP', 'WEBSITE')),
    name             text NOT NULL CHECK (name <> ''),
    identifier       text NOT NULL DEFAULT '',
    title            text NOT NULL DEFAULT '',
    icon             text NOT NULL DEFAULT '',
    groups_json      text NOT NULL DEFAULT '[]',
    actions_json     text NOT NULL DEFAULT '[]',
    pinned_signature text NOT NULL CHECK (pinned_signature <> ''),
    pinned_at        timestamptz NOT NULL,
    disabled         integer NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);

CREATE TABLE qapp_consents (
    app_id     text NOT NULL REFERENCES qapps (id) ON DELETE CASCADE,
    user_id    text NOT NULL CHECK (user_id <> ''),
    granted_at timestamptz NOT NULL,
    PRIMARY KEY (app_id, user_id)
);
