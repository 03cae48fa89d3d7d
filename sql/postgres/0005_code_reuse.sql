-- 0005_code_reuse: what is kept of an authorization code once redeemed. The
-- code row goes with its auth request when tokens are issued; this row stays
-- so a replayed code is still recognised and revokes the grant (refresh
-- family) it gave, as RFC 6749 §4.1.2 asks. Only the code's SHA-256 is kept.
CREATE TABLE oidc_redeemed_codes (
    hash                  text PRIMARY KEY,
    grant_id              text NOT NULL CHECK (grant_id <> ''),
    client_id             text NOT NULL,
    redirect_uri          text NOT NULL,
    code_challenge        text NOT NULL DEFAULT '',
    code_challenge_method text NOT NULL DEFAULT '',
    redeemed_at           timestamptz NOT NULL,
    expires_at            timestamptz NOT NULL
);
CREATE INDEX oidc_redeemed_codes_expires_at_idx ON oidc_redeemed_codes (expires_at);
