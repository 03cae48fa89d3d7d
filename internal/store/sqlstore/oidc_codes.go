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
	err := s.inTx(ctx, func(tx *Tx) error {
		var err error
		reused, err = s.redeem(ctx, tx, codeHash, grantID, expiresAt, now)
		return err
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

// redeem marks the code used and records the redemption inside tx. reused
// reports a replay, whose first grant redeem has revoked in tx: the caller
// must commit so the revocation sticks, and store nothing else.
func (s *Store) redeem(ctx context.Context, tx *Tx, codeHash, grantID string, expiresAt, now time.Time) (reused bool, err error) {
	res, err := tx.ExecContext(ctx, `UPDATE oidc_codes SET used_at = $1 WHERE hash = $2 AND used_at IS NULL AND expires_at > $3`,
		s.ts(now), codeHash, s.ts(now))
	if err != nil {
		return false, err
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
		return false, err
	}
	var grant string
	err = tx.QueryRowContext(ctx, `SELECT grant_id FROM oidc_redeemed_codes WHERE hash = $1`, codeHash).Scan(&grant)
	if err == nil {
		// Revoked in this transaction, which commits although the
		// caller gets an error: the revocation must stick.
		return true, s.revokeFamily(ctx, tx, grant, now)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	var used sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT used_at FROM oidc_codes WHERE hash = $1`, codeHash).Scan(&used); err != nil {
		return false, err
	}
	if used.Valid {
		// Used before redemptions were recorded: nothing to revoke.
		return false, store.ErrCodeUsed
	}
	return false, fmt.Errorf("code expired: %w", sql.ErrNoRows)
}

// ExchangeAuthCode is the whole write of a code exchange in one transaction:
// redeem and store the tokens (the redemption record keeps what a replay
// check needs).
func (s *Store) ExchangeAuthCode(ctx context.Context, x store.CodeExchange, now time.Time) (store.CodeExchanged, error) {
	var out store.CodeExchanged
	switch {
	case x.CodeHash == "" || x.GrantID == "":
		return out, errors.New("exchange auth code: code hash and grant id are required")
	case x.Access == nil || x.Access.ID == "" || x.Access.ClientID == "" || x.Access.Subject == "":
		return out, errors.New("exchange auth code: an access token with id, client id and subject is required")
	case x.Access.RefreshFamilyID != x.GrantID || (x.Refresh != nil && x.Refresh.FamilyID != x.GrantID):
		return out, errors.New("exchange auth code: tokens must belong to the grant")
	}
	reused := false
	err := s.inTx(ctx, func(tx *Tx) error {
		var err error
		if reused, err = s.redeem(ctx, tx, x.CodeHash, x.GrantID, x.KeepUntil, now); err != nil || reused {
			return err
		}
		if x.Refresh != nil {
			if err := s.insertRefresh(ctx, tx, *x.Refresh); err != nil {
				return err
			}
		}
		// The code (now marked used) and its done auth request stay until
		// they expire (PurgeExpiredOIDC): deleting them here would cost this
		// transaction more than the tokens it stores, and kept they still
		// refuse a replayed callback or a second completion.
		t := x.Access
		_, err = tx.ExecContext(ctx, `INSERT INTO oidc_access_tokens (`+accessCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,NULL)`,
			t.ID, t.ClientID, t.Subject, t.QortalAddress, encList(t.Scopes), encList(t.Audience), t.SessionID, t.RefreshFamilyID,
			s.ts(t.CreatedAt), s.ts(t.ExpiresAt))
		if err != nil || t.QortalAddress == "" {
			return err
		}
		// Read here rather than by the caller afterwards: on the writer
		// this is one statement more, not a read transaction more.
		m, err := scanMapping(tx.QueryRowContext(ctx, `SELECT `+mappingCols+` FROM mappings WHERE qortal_address = $1`, t.QortalAddress))
		switch {
		case err == nil:
			out.Mapping = &m
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		return nil
	})
	if err == nil && reused {
		err = store.ErrCodeUsed
	}
	if errors.Is(err, store.ErrCodeUsed) {
		return store.CodeExchanged{}, fmt.Errorf("exchange auth code: %w", err)
	}
	if err != nil {
		return store.CodeExchanged{}, s.fail("exchange auth code", err)
	}
	return out, nil
}

// GetRedeemedCode returns the unexpired record of a redeemed code.
func (s *Store) GetRedeemedCode(ctx context.Context, codeHash string, now time.Time) (store.RedeemedCode, error) {
	var (
		rc      store.RedeemedCode
		at, exp string
	)
	err := s.reader().QueryRowContext(ctx, `SELECT hash, grant_id, client_id, redirect_uri, code_challenge, code_challenge_method,
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
