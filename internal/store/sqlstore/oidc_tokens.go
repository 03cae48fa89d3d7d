package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

const accessCols = `id, client_id, subject, qortal_address, scopes, audience, session_id, refresh_family_id, created_at, expires_at, revoked_at`

// CreateAccessToken stores an issued access token.
func (s *Store) CreateAccessToken(ctx context.Context, t store.AccessToken) error {
	if t.ID == "" || t.ClientID == "" || t.Subject == "" {
		return errors.New("create access token: id, client id and subject are required")
	}
	_, err := s.exec(ctx, `INSERT INTO oidc_access_tokens (`+accessCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,NULL)`,
		t.ID, t.ClientID, t.Subject, t.QortalAddress, encList(t.Scopes), encList(t.Audience), t.SessionID, t.RefreshFamilyID,
		s.ts(t.CreatedAt), s.ts(t.ExpiresAt))
	if err != nil {
		return s.fail("create access token", err)
	}
	return nil
}

// GetAccessToken returns the token whatever its state.
func (s *Store) GetAccessToken(ctx context.Context, id string) (store.AccessToken, error) {
	var (
		t                   store.AccessToken
		scopes, aud, cr, ex string
		revoked             sql.NullString
	)
	err := s.hotRead(func(p pool) error {
		return p.QueryRowContext(ctx, `SELECT `+accessCols+` FROM oidc_access_tokens WHERE id = $1`, id).Scan(&t.ID, &t.ClientID,
			&t.Subject, &t.QortalAddress, &scopes, &aud, &t.SessionID, &t.RefreshFamilyID, &cr, &ex, &revoked)
	})
	if err != nil {
		return t, s.fail("get access token", err)
	}
	if t.Scopes, err = decList(scopes); err != nil {
		return t, err
	}
	if t.Audience, err = decList(aud); err != nil {
		return t, err
	}
	if t.CreatedAt, err = parseTS(cr); err != nil {
		return t, err
	}
	if t.ExpiresAt, err = parseTS(ex); err != nil {
		return t, err
	}
	t.RevokedAt, err = parseNullTS(revoked)
	return t, err
}

// RevokeAccessToken revokes one access token.
func (s *Store) RevokeAccessToken(ctx context.Context, id string, now time.Time) error {
	res, err := s.exec(ctx, `UPDATE oidc_access_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2`, s.ts(now), id)
	if err != nil {
		return s.fail("revoke access token", err)
	}
	if affected(res) == 0 {
		return fmt.Errorf("revoke access token: %w", store.ErrNotFound)
	}
	return nil
}

const refreshCols = `hash, id, family_id, client_id, subject, qortal_address, scopes, audience, amr, auth_time,
	session_id, created_at, expires_at, rotated_at, revoked_at`

func (s *Store) insertRefresh(ctx context.Context, q queryer, t store.RefreshToken) error {
	if t.Hash == "" || t.ID == "" || t.FamilyID == "" || t.ClientID == "" || t.Subject == "" {
		return errors.New("refresh token: hash, id, family, client and subject are required")
	}
	_, err := q.ExecContext(ctx, `INSERT INTO oidc_refresh_tokens (`+refreshCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,NULL,NULL)`,
		t.Hash, t.ID, t.FamilyID, t.ClientID, t.Subject, t.QortalAddress, encList(t.Scopes), encList(t.Audience),
		encList(t.AMR), s.ts(t.AuthTime), t.SessionID, s.ts(t.CreatedAt), s.ts(t.ExpiresAt))
	return err
}

// CreateRefreshToken stores the first token of a family.
func (s *Store) CreateRefreshToken(ctx context.Context, t store.RefreshToken) error {
	if err := s.oneStatement(ctx, func(q queryer) error { return s.insertRefresh(ctx, q, t) }); err != nil {
		return s.fail("create refresh token", err)
	}
	return nil
}

// getRefresh reads a token; lock is appended to the query (a flavor's LockRow
// when the caller is about to change the row).
func getRefresh(ctx context.Context, q queryer, hash, lock string) (store.RefreshToken, error) {
	var (
		t                                  store.RefreshToken
		scopes, aud, amr, authTime, cr, ex string
		rotated, revoked                   sql.NullString
	)
	err := q.QueryRowContext(ctx, `SELECT `+refreshCols+` FROM oidc_refresh_tokens WHERE hash = $1`+lock, hash).Scan(&t.Hash, &t.ID,
		&t.FamilyID, &t.ClientID, &t.Subject, &t.QortalAddress, &scopes, &aud, &amr, &authTime, &t.SessionID,
		&cr, &ex, &rotated, &revoked)
	if err != nil {
		return t, err
	}
	for _, f := range []struct {
		dst *[]string
		src string
	}{{&t.Scopes, scopes}, {&t.Audience, aud}, {&t.AMR, amr}} {
		if *f.dst, err = decList(f.src); err != nil {
			return t, err
		}
	}
	for _, f := range []struct {
		dst *time.Time
		src string
	}{{&t.AuthTime, authTime}, {&t.CreatedAt, cr}, {&t.ExpiresAt, ex}} {
		if *f.dst, err = parseTS(f.src); err != nil {
			return t, err
		}
	}
	if t.RotatedAt, err = parseNullTS(rotated); err != nil {
		return t, err
	}
	t.RevokedAt, err = parseNullTS(revoked)
	return t, err
}

// GetRefreshToken returns the token whatever its state.
func (s *Store) GetRefreshToken(ctx context.Context, hash string) (store.RefreshToken, error) {
	t, err := getRefresh(ctx, s.reader(), hash, "")
	if err != nil {
		return t, s.fail("get refresh token", err)
	}
	return t, nil
}

// RotateRefreshToken swaps oldHash for next in one write transaction; a
// token already rotated means reuse, and its family is revoked.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next store.RefreshToken, now time.Time) error {
	var reusedFamily string
	err := s.inTx(ctx, func(tx *Tx) error {
		// The row lock makes concurrent rotations of one token queue up
		// where transactions overlap (Postgres); the waiter then reads the
		// winner's rotated_at and reports reuse.
		old, err := getRefresh(ctx, tx, oldHash, s.flavor.LockRow)
		if err != nil {
			return err
		}
		// A rotated token is reuse whatever happened since, so every late
		// racer gets the same answer.
		switch {
		case old.RotatedAt != nil:
			reusedFamily = old.FamilyID
			return store.ErrRefreshTokenReused
		case old.RevokedAt != nil || !backend.Time(now).Before(backend.Time(old.ExpiresAt)):
			return sql.ErrNoRows
		case next.FamilyID != old.FamilyID:
			return fmt.Errorf("next token family %q differs from %q", next.FamilyID, old.FamilyID)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE oidc_refresh_tokens SET rotated_at = $1 WHERE hash = $2`, s.ts(now), oldHash); err != nil {
			return err
		}
		return s.insertRefresh(ctx, tx, next)
	})
	if errors.Is(err, store.ErrRefreshTokenReused) {
		// inTx rolled back; the revocation is its own transaction so it sticks.
		if rerr := s.RevokeRefreshFamily(ctx, reusedFamily, now); rerr != nil {
			return rerr
		}
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	if err != nil {
		return s.fail("rotate refresh token", err)
	}
	return nil
}

func (s *Store) revokeFamily(ctx context.Context, q queryer, familyID string, now time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE oidc_refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL`, s.ts(now), familyID); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `UPDATE oidc_access_tokens SET revoked_at = $1 WHERE refresh_family_id = $2 AND revoked_at IS NULL`, s.ts(now), familyID)
	return err
}

// RevokeRefreshFamily revokes a family's refresh and access tokens.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error {
	if familyID == "" {
		return nil
	}
	if err := s.inTx(ctx, func(tx *Tx) error { return s.revokeFamily(ctx, tx, familyID, now) }); err != nil {
		return s.fail("revoke refresh family", err)
	}
	return nil
}
