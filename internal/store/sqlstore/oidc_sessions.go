package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

const sessionCols = `id, subject, client_id, qortal_address, created_at, expires_at, ended_at, broker_session_id`

func scanSession(row scanner) (store.Session, error) {
	var (
		ss     store.Session
		cr, ex string
		ended  sql.NullString
	)
	if err := row.Scan(&ss.ID, &ss.Subject, &ss.ClientID, &ss.QortalAddress, &cr, &ex, &ended, &ss.BrokerSessionID); err != nil {
		return ss, err
	}
	var err error
	if ss.CreatedAt, err = parseTS(cr); err != nil {
		return ss, err
	}
	if ss.ExpiresAt, err = parseTS(ex); err != nil {
		return ss, err
	}
	ss.EndedAt, err = parseNullTS(ended)
	return ss, err
}

// GetSession returns the session whatever its state.
func (s *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	ss, err := readOne(ctx, s, scanSession, `SELECT `+sessionCols+` FROM oidc_sessions WHERE id = $1`, id)
	if err != nil {
		return ss, s.fail("get session", err)
	}
	return ss, nil
}

func (s *Store) revokeSessionTokens(ctx context.Context, tx *Tx, sid string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE oidc_access_tokens SET revoked_at = $1 WHERE session_id = $2 AND revoked_at IS NULL`, s.ts(now), sid); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE oidc_refresh_tokens SET revoked_at = $1 WHERE session_id = $2 AND revoked_at IS NULL`, s.ts(now), sid)
	return err
}

// EndSession ends an open session once and revokes its tokens.
func (s *Store) EndSession(ctx context.Context, id string, now time.Time) (store.Session, error) {
	var ss store.Session
	err := s.inTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE oidc_sessions SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL`, s.ts(now), id)
		if err != nil {
			return err
		}
		if affected(res) == 0 {
			return sql.ErrNoRows
		}
		if ss, err = scanSession(tx.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM oidc_sessions WHERE id = $1`, id)); err != nil {
			return err
		}
		return s.revokeSessionTokens(ctx, tx, id, now)
	})
	if err != nil {
		return store.Session{}, s.fail("end session", err)
	}
	return ss, nil
}

// EndSessionsFor ends every open session of subject at clientID.
func (s *Store) EndSessionsFor(ctx context.Context, subject, clientID string, now time.Time) ([]store.Session, error) {
	var out []store.Session
	err := s.inTx(ctx, func(tx *Tx) error {
		out = nil
		// One conditional UPDATE: of concurrent callers each session is
		// reported ended by exactly one.
		rows, err := tx.QueryContext(ctx, `UPDATE oidc_sessions SET ended_at = $3 WHERE subject = $1 AND client_id = $2
			AND ended_at IS NULL RETURNING `+sessionCols, subject, clientID, s.ts(now))
		if err != nil {
			return err
		}
		for rows.Next() {
			ss, err := scanSession(rows)
			if err != nil {
				_ = rows.Close()
				return err
			}
			out = append(out, ss)
		}
		_ = rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, ss := range out {
			if err := s.revokeSessionTokens(ctx, tx, ss.ID, now); err != nil {
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
