package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// RedeemAuthCode marks the code used and records the redemption in one
// write transaction, so exactly one caller wins and every later one finds
// the winner's grant to revoke.
func (s *Store) RedeemAuthCode(ctx context.Context, codeHash, grantID string, expiresAt, now time.Time) error {
	if codeHash == "" || grantID == "" {
		return errors.New("redeem auth code: code hash and grant id are required")
	}
	reused := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE oidc_codes SET used_at = $1 WHERE hash = $2 AND used_at IS NULL AND expires_at > $3`,
			s.ts(now), codeHash, s.ts(now))
		if err != nil {
			return err
		}
		if affected(res) == 1 {
			res, err := tx.ExecContext(ctx, `INSERT INTO oidc_redeemed_codes (hash, grant_id, client_id, redirect_uri,
				code_challenge, code_challenge_method, redeemed_at, expires_at)
				SELECT c.hash, $1, r.client_id, r.redirect_uri, r.code_challenge, r.code_challenge_method, $2, $3
				FROM oidc_codes c JOIN oidc_auth_requests r ON r.id = c.auth_request_id WHERE c.hash = $4`,
				grantID, s.ts(now), s.ts(expiresAt), codeHash)
			if err == nil && affected(res) != 1 {
				err = errors.New("code has no auth request")
			}
			return err
		}
		var grant string
		err = tx.QueryRowContext(ctx, `SELECT grant_id FROM oidc_redeemed_codes WHERE hash = $1`, codeHash).Scan(&grant)
		if err == nil {
			// Revoked in this transaction, which commits although the
			// caller gets an error: the revocation must stick.
			reused = true
			return s.revokeFamily(ctx, tx, grant, now)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var used sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT used_at FROM oidc_codes WHERE hash = $1`, codeHash).Scan(&used); err != nil {
			return err
		}
		if used.Valid {
			// Used before redemptions were recorded: nothing to revoke.
			return store.ErrCodeUsed
		}
		return fmt.Errorf("code expired: %w", sql.ErrNoRows)
	})
	if err == nil && reused {
		err = store.ErrCodeUsed
	}
	if errors.Is(err, store.ErrCodeUsed) {
		return fmt.Errorf("redeem auth code: %w", err)
	}
	if err != nil {
		return s.fail("redeem auth code", err)
	}
	return nil
}

// GetRedeemedCode returns the unexpired record of a redeemed code.
func (s *Store) GetRedeemedCode(ctx context.Context, codeHash string, now time.Time) (store.RedeemedCode, error) {
	var (
		rc      store.RedeemedCode
		at, exp string
	)
	err := s.read.QueryRowContext(ctx, `SELECT hash, grant_id, client_id, redirect_uri, code_challenge, code_challenge_method,
		redeemed_at, expires_at FROM oidc_redeemed_codes WHERE hash = $1 AND expires_at > $2`, codeHash, s.ts(now)).Scan(
		&rc.Hash, &rc.GrantID, &rc.ClientID, &rc.RedirectURI, &rc.CodeChallenge, &rc.CodeChallengeMethod, &at, &exp)
	if err != nil {
		return rc, s.fail("get redeemed code", err)
	}
	if rc.RedeemedAt, err = parseTS(at); err != nil {
		return rc, err
	}
	rc.ExpiresAt, err = parseTS(exp)
	return rc, err
}
