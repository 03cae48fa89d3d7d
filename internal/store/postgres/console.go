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

const consoleCols = `token_hash, address, created_at, last_seen_at, expires_at`

func scanConsoleSession(row pgx.Row) (store.ConsoleSession, error) {
	var cs store.ConsoleSession
	if err := row.Scan(&cs.TokenHash, &cs.Address, &cs.CreatedAt, &cs.LastSeenAt, &cs.ExpiresAt); err != nil {
		return store.ConsoleSession{}, err
	}
	cs.CreatedAt, cs.LastSeenAt, cs.ExpiresAt = cs.CreatedAt.UTC(), cs.LastSeenAt.UTC(), cs.ExpiresAt.UTC()
	return cs, nil
}

// CreateConsoleSession inserts a session and its audit entry.
func (s *Store) CreateConsoleSession(ctx context.Context, cs store.ConsoleSession, audit store.AuditEntry) (store.ConsoleSession, error) {
	if err := store.CheckConsoleSession(cs); err != nil {
		return store.ConsoleSession{}, fmt.Errorf("create console session: %w", err)
	}
	cs.CreatedAt, cs.LastSeenAt, cs.ExpiresAt = backend.Time(cs.CreatedAt), backend.Time(cs.LastSeenAt), backend.Time(cs.ExpiresAt)
	a, err := backend.Audit(audit, backend.Now(), "admin.signin", cs.Address)
	if err != nil {
		return store.ConsoleSession{}, fmt.Errorf("create console session: %w", err)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO console_sessions (`+consoleCols+`) VALUES ($1, $2, $3, $4, $5)`,
			cs.TokenHash, cs.Address, cs.CreatedAt, cs.LastSeenAt, cs.ExpiresAt); err != nil {
			return err
		}
		_, err := insertAudit(ctx, tx, a)
		return err
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return store.ConsoleSession{}, fmt.Errorf("create console session: %w", store.ErrExists)
	}
	if err != nil {
		return store.ConsoleSession{}, s.fail("create console session", err)
	}
	return cs, nil
}

// GetConsoleSession returns a session whatever its times.
func (s *Store) GetConsoleSession(ctx context.Context, tokenHash string) (store.ConsoleSession, error) {
	cs, err := scanConsoleSession(s.pool.QueryRow(ctx, `SELECT `+consoleCols+` FROM console_sessions WHERE token_hash = $1`, tokenHash))
	if err != nil {
		return store.ConsoleSession{}, s.fail("get console session", err)
	}
	return cs, nil
}

// TouchConsoleSession moves last_seen_at forward, never back (two replicas
// may touch the same session out of order).
func (s *Store) TouchConsoleSession(ctx context.Context, tokenHash string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE console_sessions SET last_seen_at = GREATEST(last_seen_at, $2) WHERE token_hash = $1`,
		tokenHash, backend.Time(at))
	if err != nil {
		return s.fail("touch console session", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("touch console session: %w", store.ErrNotFound)
	}
	return nil
}

// DeleteConsoleSession removes a session with its audit entry.
func (s *Store) DeleteConsoleSession(ctx context.Context, tokenHash string, audit store.AuditEntry) (store.ConsoleSession, error) {
	var cs store.ConsoleSession
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		cs, err = scanConsoleSession(tx.QueryRow(ctx, `DELETE FROM console_sessions WHERE token_hash = $1 RETURNING `+consoleCols, tokenHash))
		if err != nil {
			return err
		}
		a, err := backend.Audit(audit, backend.Now(), "admin.signout", cs.Address)
		if err != nil {
			return err
		}
		_, err = insertAudit(ctx, tx, a)
		return err
	})
	if err != nil {
		return store.ConsoleSession{}, s.fail("delete console session", err)
	}
	return cs, nil
}

// DeleteExpiredConsoleSessions removes ended and idle sessions.
func (s *Store) DeleteExpiredConsoleSessions(ctx context.Context, t, idleBefore time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE expires_at < $1 OR last_seen_at < $2`,
		backend.Time(t), backend.Time(idleBefore))
	if err != nil {
		return 0, s.fail("delete expired console sessions", err)
	}
	return int(tag.RowsAffected()), nil
}
