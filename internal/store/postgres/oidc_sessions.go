package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

const sessionCols = `id, subject, client_id, qortal_address, created_at, expires_at, ended_at`

func scanSession(row pgx.Row) (store.Session, error) {
	var (
		ss    store.Session
		ended *time.Time
	)
	if err := row.Scan(&ss.ID, &ss.Subject, &ss.ClientID, &ss.QortalAddress, &ss.CreatedAt, &ss.ExpiresAt, &ended); err != nil {
		return ss, err
	}
	ss.CreatedAt, ss.ExpiresAt, ss.EndedAt = ss.CreatedAt.UTC(), ss.ExpiresAt.UTC(), utcPtr(ended)
	return ss, nil
}

// GetSession returns the session whatever its state.
func (s *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	ss, err := scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionCols+` FROM oidc_sessions WHERE id = $1`, id))
	if err != nil {
		return ss, s.fail("get session", err)
	}
	return ss, nil
}

func revokeSessionTokens(ctx context.Context, tx pgx.Tx, sid string, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE oidc_access_tokens SET revoked_at = $2 WHERE session_id = $1 AND revoked_at IS NULL`, sid, now); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE oidc_refresh_tokens SET revoked_at = $2 WHERE session_id = $1 AND revoked_at IS NULL`, sid, now)
	return err
}

// EndSession ends an open session once and revokes its tokens.
func (s *Store) EndSession(ctx context.Context, id string, now time.Time) (store.Session, error) {
	now = backend.Time(now)
	var ss store.Session
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		ss, err = scanSession(tx.QueryRow(ctx, `UPDATE oidc_sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL RETURNING `+sessionCols, id, now))
		if err != nil {
			return err
		}
		return revokeSessionTokens(ctx, tx, id, now)
	})
	if err != nil {
		return store.Session{}, s.fail("end session", err)
	}
	return ss, nil
}

// EndSessionsFor ends every open session of subject at clientID.
func (s *Store) EndSessionsFor(ctx context.Context, subject, clientID string, now time.Time) ([]store.Session, error) {
	now = backend.Time(now)
	var out []store.Session
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		out = nil
		rows, err := tx.Query(ctx, `UPDATE oidc_sessions SET ended_at = $3 WHERE subject = $1 AND client_id = $2
			AND ended_at IS NULL RETURNING `+sessionCols, subject, clientID, now)
		if err != nil {
			return err
		}
		for rows.Next() {
			ss, err := scanSession(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, ss)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, ss := range out {
			if err := revokeSessionTokens(ctx, tx, ss.ID, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.fail("end sessions", err)
	}
	return out, nil
}
