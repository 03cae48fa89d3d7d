package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

const accessCols = `id, client_id, subject, qortal_address, scopes, audience, session_id, refresh_family_id, created_at, expires_at, revoked_at`

// CreateAccessToken stores an issued access token.
func (s *Store) CreateAccessToken(ctx context.Context, t store.AccessToken) error {
	if t.ID == "" || t.ClientID == "" || t.Subject == "" {
		return errors.New("create access token: id, client id and subject are required")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO oidc_access_tokens (`+accessCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,NULL)`,
		t.ID, t.ClientID, t.Subject, t.QortalAddress, encList(t.Scopes), encList(t.Audience), t.SessionID, t.RefreshFamilyID,
		backend.Time(t.CreatedAt), backend.Time(t.ExpiresAt))
	if err != nil {
		return s.fail("create access token", err)
	}
	return nil
}

// GetAccessToken returns the token whatever its state.
func (s *Store) GetAccessToken(ctx context.Context, id string) (store.AccessToken, error) {
	var (
		t           store.AccessToken
		scopes, aud string
		revoked     *time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT `+accessCols+` FROM oidc_access_tokens WHERE id = $1`, id).Scan(&t.ID, &t.ClientID,
		&t.Subject, &t.QortalAddress, &scopes, &aud, &t.SessionID, &t.RefreshFamilyID, &t.CreatedAt, &t.ExpiresAt, &revoked)
	if err != nil {
		return t, s.fail("get access token", err)
	}
	if t.Scopes, err = decList(scopes); err != nil {
		return t, err
	}
	if t.Audience, err = decList(aud); err != nil {
		return t, err
	}
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC(), utcPtr(revoked)
	return t, nil
}

// RevokeAccessToken revokes one access token.
func (s *Store) RevokeAccessToken(ctx context.Context, id string, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE oidc_access_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`, id, backend.Time(now))
	if err != nil {
		return s.fail("revoke access token", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoke access token: %w", store.ErrNotFound)
	}
	return nil
}

const refreshCols = `hash, id, family_id, client_id, subject, qortal_address, scopes, audience, amr, auth_time,
	session_id, created_at, expires_at, rotated_at, revoked_at`

func insertRefresh(ctx context.Context, q interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, t store.RefreshToken) error {
	if t.Hash == "" || t.ID == "" || t.FamilyID == "" || t.ClientID == "" || t.Subject == "" {
		return errors.New("refresh token: hash, id, family, client and subject are required")
	}
	_, err := q.Exec(ctx, `INSERT INTO oidc_refresh_tokens (`+refreshCols+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,NULL,NULL)`,
		t.Hash, t.ID, t.FamilyID, t.ClientID, t.Subject, t.QortalAddress, encList(t.Scopes), encList(t.Audience),
		encList(t.AMR), backend.Time(t.AuthTime), t.SessionID, backend.Time(t.CreatedAt), backend.Time(t.ExpiresAt))
	return err
}

// CreateRefreshToken stores the first token of a family.
func (s *Store) CreateRefreshToken(ctx context.Context, t store.RefreshToken) error {
	if err := insertRefresh(ctx, s.pool, t); err != nil {
		return s.fail("create refresh token", err)
	}
	return nil
}

// GetRefreshToken returns the token whatever its state.
func (s *Store) GetRefreshToken(ctx context.Context, hash string) (store.RefreshToken, error) {
	var (
		t                store.RefreshToken
		scopes, aud, amr string
		rotated, revoked *time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT `+refreshCols+` FROM oidc_refresh_tokens WHERE hash = $1`, hash).Scan(&t.Hash, &t.ID,
		&t.FamilyID, &t.ClientID, &t.Subject, &t.QortalAddress, &scopes, &aud, &amr, &t.AuthTime, &t.SessionID,
		&t.CreatedAt, &t.ExpiresAt, &rotated, &revoked)
	if err != nil {
		return t, s.fail("get refresh token", err)
	}
	for _, f := range []struct {
		dst *[]string
		src string
	}{{&t.Scopes, scopes}, {&t.Audience, aud}, {&t.AMR, amr}} {
		if *f.dst, err = decList(f.src); err != nil {
			return t, err
		}
	}
	t.AuthTime, t.CreatedAt, t.ExpiresAt = t.AuthTime.UTC(), t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	t.RotatedAt, t.RevokedAt = utcPtr(rotated), utcPtr(revoked)
	return t, nil
}

// RotateRefreshToken swaps oldHash for next. The conditional UPDATE picks
// one winner; a loser that finds the token already rotated revokes the
// family (in its own statement, committed even though it reports an error).
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next store.RefreshToken, now time.Time) error {
	now = backend.Time(now)
	var reusedFamily string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var family string
		err := tx.QueryRow(ctx, `UPDATE oidc_refresh_tokens SET rotated_at = $2 WHERE hash = $1
			AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $2 RETURNING family_id`, oldHash, now).Scan(&family)
		if errors.Is(err, pgx.ErrNoRows) {
			var rotated *time.Time
			err = tx.QueryRow(ctx, `SELECT family_id, rotated_at FROM oidc_refresh_tokens WHERE hash = $1`, oldHash).Scan(&family, &rotated)
			// A rotated token is reuse whatever happened since, so every
			// late racer gets the same answer.
			if err == nil && rotated != nil {
				reusedFamily = family
				return store.ErrRefreshTokenReused
			}
			if err == nil {
				return pgx.ErrNoRows // revoked or expired
			}
			return err
		}
		if err != nil {
			return err
		}
		if next.FamilyID != family {
			return fmt.Errorf("next token family %q differs from %q", next.FamilyID, family)
		}
		return insertRefresh(ctx, tx, next)
	})
	if errors.Is(err, store.ErrRefreshTokenReused) {
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

// RevokeRefreshFamily revokes a family's refresh and access tokens.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error {
	now = backend.Time(now)
	if err := s.inTx(ctx, func(tx pgx.Tx) error { return revokeFamily(ctx, tx, familyID, now) }); err != nil {
		return s.fail("revoke refresh family", err)
	}
	return nil
}

func revokeFamily(ctx context.Context, tx pgx.Tx, familyID string, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE oidc_refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL`, familyID, now); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE oidc_access_tokens SET revoked_at = $2 WHERE refresh_family_id = $1 AND revoked_at IS NULL`, familyID, now)
	return err
}
