-- 0003_admin: login policy override, allowlist, invites and onboarding
-- campaigns. Invite tokens are kept as SHA-256 hashes (hex) only.

-- At most one row (id = 1): the run-time override of the configured policy.
CREATE TABLE login_policy (
    id         integer PRIMARY KEY CHECK (id = 1),
    mode       text NOT NULL CHECK (mode IN ('link_only', 'auto_provision')),
    guard      text NOT NULL CHECK (guard IN ('none', 'allowlist', 'invite', 'invite_or_allowlist')),
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE allowlist (
    -- COLLATE "C": byte order, so pagination matches the SQLite backend.
    qortal_address text COLLATE "C" PRIMARY KEY CHECK (qortal_address <> ''),
    note           text NOT NULL DEFAULT '',
    added_by       text NOT NULL,
    created_at     timestamptz NOT NULL
);

CREATE TABLE onboarding_campaigns (
    -- seq orders the listing (newest first) and backs its cursor.
    seq                bigserial PRIMARY KEY,
    id                 text NOT NULL UNIQUE,
    channels           json NOT NULL,
    selector           json NOT NULL DEFAULT '{}',
    notification_short text NOT NULL DEFAULT '',
    notification_long  text NOT NULL DEFAULT '',
    email_subject      text NOT NULL DEFAULT '',
    email_body         text NOT NULL DEFAULT '',
    invite_ttl_seconds bigint NOT NULL CHECK (invite_ttl_seconds > 0),
    created_by         text NOT NULL,
    created_at         timestamptz NOT NULL
);

CREATE TABLE invites (
    seq               bigserial PRIMARY KEY,
    id                text NOT NULL UNIQUE,
    token_hash        text NOT NULL UNIQUE,
    nextcloud_user_id text NOT NULL DEFAULT '',
    campaign_id       text NOT NULL DEFAULT '',
    note              text NOT NULL DEFAULT '',
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    used_at           timestamptz,
    used_by           text NOT NULL DEFAULT '',
    revoked_at        timestamptz
);
-- Serves "revoke the previous invites of a target" on resend.
CREATE INDEX invites_campaign_user_idx ON invites (campaign_id, nextcloud_user_id) WHERE campaign_id <> '';

CREATE TABLE onboarding_targets (
    campaign_id       text NOT NULL REFERENCES onboarding_campaigns (id) ON DELETE CASCADE,
    nextcloud_user_id text COLLATE "C" NOT NULL CHECK (nextcloud_user_id <> ''),
    state             text NOT NULL CHECK (state IN ('not_started', 'sending', 'invited', 'linked', 'failed')),
    invite_id         text NOT NULL DEFAULT '',
    attempts          integer NOT NULL DEFAULT 0,
    last_error        text NOT NULL DEFAULT '',
    lease_owner       text NOT NULL DEFAULT '',
    lease_until       timestamptz,
    sent_at           timestamptz,
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, nextcloud_user_id)
);
-- Serves ClaimTargets (not_started) and ReclaimStale (sending).
CREATE INDEX onboarding_targets_state_idx ON onboarding_targets (state, campaign_id);
