-- 0003_admin: login policy override, allowlist, invites and onboarding
-- campaigns. Invite tokens are kept as SHA-256 hashes (hex) only. Times are
-- fixed-width UTC TEXT as in 0001; lists are JSON arrays in TEXT.

-- At most one row (id = 1): the run-time override of the configured policy.
CREATE TABLE login_policy (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    mode       TEXT NOT NULL CHECK (mode IN ('link_only', 'auto_provision')),
    guard      TEXT NOT NULL CHECK (guard IN ('none', 'allowlist', 'invite', 'invite_or_allowlist')),
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE allowlist (
    qortal_address TEXT NOT NULL PRIMARY KEY CHECK (qortal_address <> ''),
    note           TEXT NOT NULL DEFAULT '',
    added_by       TEXT NOT NULL,
    created_at     TEXT NOT NULL
) STRICT;

CREATE TABLE onboarding_campaigns (
    -- seq orders the listing (newest first) and backs its cursor.
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    id                 TEXT NOT NULL UNIQUE,
    channels           TEXT NOT NULL CHECK (json_valid(channels)),
    selector           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(selector)),
    notification_short TEXT NOT NULL DEFAULT '',
    notification_long  TEXT NOT NULL DEFAULT '',
    email_subject      TEXT NOT NULL DEFAULT '',
    email_body         TEXT NOT NULL DEFAULT '',
    invite_ttl_seconds INTEGER NOT NULL CHECK (invite_ttl_seconds > 0),
    created_by         TEXT NOT NULL,
    created_at         TEXT NOT NULL
) STRICT;

CREATE TABLE invites (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT NOT NULL UNIQUE,
    token_hash        TEXT NOT NULL UNIQUE,
    nextcloud_user_id TEXT NOT NULL DEFAULT '',
    campaign_id       TEXT NOT NULL DEFAULT '',
    note              TEXT NOT NULL DEFAULT '',
    created_by        TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    expires_at        TEXT NOT NULL,
    used_at           TEXT,
    used_by           TEXT NOT NULL DEFAULT '',
    revoked_at        TEXT
) STRICT;
-- Serves "revoke the previous invites of a target" on resend.
CREATE INDEX invites_campaign_user_idx ON invites (campaign_id, nextcloud_user_id) WHERE campaign_id <> '';

CREATE TABLE onboarding_targets (
    campaign_id       TEXT NOT NULL REFERENCES onboarding_campaigns (id) ON DELETE CASCADE,
    nextcloud_user_id TEXT NOT NULL CHECK (nextcloud_user_id <> ''),
    state             TEXT NOT NULL CHECK (state IN ('not_started', 'sending', 'invited', 'linked', 'failed')),
    invite_id         TEXT NOT NULL DEFAULT '',
    attempts          INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT NOT NULL DEFAULT '',
    lease_owner       TEXT NOT NULL DEFAULT '',
    lease_until       TEXT,
    sent_at           TEXT,
    updated_at        TEXT NOT NULL,
    PRIMARY KEY (campaign_id, nextcloud_user_id)
) STRICT;
-- Serves ClaimTargets (not_started) and ReclaimStale (sending).
CREATE INDEX onboarding_targets_state_idx ON onboarding_targets (state, campaign_id);
