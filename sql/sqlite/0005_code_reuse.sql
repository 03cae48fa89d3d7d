-- 0005_code_reuse: what is kept of an authorization code once redeemed. The
-- code row goes with its auth request when tokens are issued; this row stays
-- so a replayed code is still recognised and revokes the grant (refresh
-- family) it gave, as RFC 6749 §4.1.2 asks. Only the code's SHA-256 is kept.
-- Times are fixed-width UTC TEXT as in 0001.
CREATE TABLE oidc_redeemed_codes (
    hash                  TEXT NOT NULL PRIMARY KEY,
    grant_id              TEXT NOT NULL CHECK (grant_id <> ''),
    client_id             TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL,
    code_challenge        TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    redeemed_at           TEXT NOT NULL,
    expires_at            TEXT NOT NULL
) STRICT;
CREATE INDEX oidc_redeemed_codes_expires_at_idx ON oidc_redeemed_codes (expires_at);
