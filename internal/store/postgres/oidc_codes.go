package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

// RedeemAuthCode marks the code used and records the redemption in one
// transaction. The conditional UPDATE picks one winner; a loser blocks on
// the winner's row lock, then reads its committed record and revokes its
// grant.
func (s *Store) RedeemAuthCode(ctx context.Context, codeHash, grantID string, expiresAt, now time.Time) error {
	if codeHash == "" || grantID == "" {
		return errors.New("redeem auth code: code hash and grant id are required")
	}
	now = backend.Time(now)
	reused := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE oidc_codes SET used_at = $2 WHERE hash = $1 AND used_at IS NULL AND expires_at > $2`, codeHash, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			tag, err := tx.Exec(ctx, `INSERT INTO oidc_redeemed_codes (hash, grant_id, client_id, redirect_uri,
				code_challenge, code_challenge_method, redeemed_at, expires_at)
				SELECT c.hash, $2, r.client_id, r.redirect_uri, r.code_challenge, r.code_challenge_method, $3, $4
				FROM oidc_codes c JOIN oidc_auth_requests r ON r.id = c.auth_request_id WHERE c.hash = $1`,
				codeHash, grantID, now, backend.Time(expiresAt))
			if err == nil && tag.RowsAffected() != 1 {
				err = errors.New("code has no auth request")
			}
			return err
		}
		var grant string
		err = tx.QueryRow(ctx, `SELECT grant_id FROM oidc_redeemed_codes WHERE hash = $1`, codeHash).Scan(&grant)
		if err == nil {
			// Revoked in this transaction, which commits although the
			// caller gets an error: the revocation must stick.
			reused = true
			return revokeFamily(ctx, tx, grant, now)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var used *time.Time
		if err := tx.QueryRow(ctx, `SELECT used_at FROM oidc_codes WHERE hash = $1`, codeHash).Scan(&used); err != nil {
			return err
		}
		if used != nil {
			// Used before redemptions were recorded: nothing to revoke.
			return store.ErrCodeUsed
		}
		return fmt.Errorf("code expired: %w", pgx.ErrNoRows)
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
	var rc store.RedeemedCode
	err := s.pool.QueryRow(ctx, `SELECT hash, grant_id, client_id, redirect_uri, code_challenge, code_challenge_method,
		redeemed_at, expires_at FROM oidc_redeemed_codes WHERE hash = $1 AND expires_at > $2`, codeHash, backend.Time(now)).Scan(
		&rc.Hash, &rc.GrantID, &rc.ClientID, &rc.RedirectURI, &rc.CodeChallenge, &rc.CodeChallengeMethod, &rc.RedeemedAt, &rc.ExpiresAt)
	if err != nil {
		return rc, s.fail("get redeemed code", err)
	}
	rc.RedeemedAt, rc.ExpiresAt = rc.RedeemedAt.UTC(), rc.ExpiresAt.UTC()
	return rc, nil
}
