package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

const consoleCols = `token_hash, address, created_at, last_seen_at, expires_at`

func scanConsoleSession(row scanner) (store.ConsoleSession, error) {
	var (
		cs                     store.ConsoleSession
		created, seen, expires string
	)
	if err := row.Scan(&cs.TokenHash, &cs.Address, &created, &seen, &expires); err != nil {
		return store.ConsoleSession{}, err
	}
	var err error
	if cs.CreatedAt, err = parseTS(created); err != nil {
		return store.ConsoleSession{}, err
	}
	if cs.LastSeenAt, err = parseTS(seen); err != nil {
		return store.ConsoleSession{}, err
	}
	if cs.ExpiresAt, err = parseTS(expires); err != nil {
		return store.ConsoleSession{}, err
	}
	return cs, nil
}

func normaliseConsole(cs store.ConsoleSession) store.ConsoleSession {
	cs.CreatedAt, cs.LastSeenAt, cs.ExpiresAt = backend.Time(cs.CreatedAt), backend.Time(cs.LastSeenAt), backend.Time(cs.ExpiresAt)
	return cs
}

// CreateConsoleSession inserts a session and its audit entry.
func (s *Store) CreateConsoleSession(ctx context.Context, cs store.ConsoleSession, audit store.AuditEntry) (store.ConsoleSession, error) {
	if err := store.CheckConsoleSession(cs); err != nil {
		return store.ConsoleSession{}, fmt.Errorf("create console session: %w", err)
	}
	cs = normaliseConsole(cs)
	a, err := backend.Audit(audit, backend.Now(), "admin.signin", cs.Address)
	if err != nil {
		return store.ConsoleSession{}, fmt.Errorf("create console session: %w", err)
	}
	err = s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO console_sessions (`+consoleCols+`) VALUES ($1, $2, $3, $4, $5)`,
			cs.TokenHash, cs.Address, s.ts(cs.CreatedAt), s.ts(cs.LastSeenAt), s.ts(cs.ExpiresAt)); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, a)
	})
	if s.unique(err, "console_sessions", "token_hash") {
		return store.ConsoleSession{}, fmt.Errorf("create console session: %w", store.ErrExists)
	}
	if err != nil {
		return store.ConsoleSession{}, s.fail("create console session", err)
	}
	return cs, nil
}

// GetConsoleSession returns a session whatever its times.
func (s *Store) GetConsoleSession(ctx context.Context, tokenHash string) (store.ConsoleSession, error) {
	cs, err := scanConsoleSession(s.reader().QueryRowContext(ctx, `SELECT `+consoleCols+` FROM console_sessions WHERE token_hash = $1`, tokenHash))
	if err != nil {
		return store.ConsoleSession{}, s.fail("get console session", err)
	}
	return cs, nil
}

// TouchConsoleSession moves last_seen_at forward.
func (s *Store) TouchConsoleSession(ctx context.Context, tokenHash string, at time.Time) error {
	return s.touchLastSeen(ctx, "touch console session", `UPDATE console_sessions SET `+lastSeenForward+` WHERE token_hash = $1`, tokenHash, at)
}

// DeleteConsoleSession removes a session with its audit entry.
func (s *Store) DeleteConsoleSession(ctx context.Context, tokenHash string, audit store.AuditEntry) (store.ConsoleSession, error) {
	var cs store.ConsoleSession
	err := s.inTx(ctx, func(tx *Tx) error {
		var err error
		cs, err = scanConsoleSession(tx.QueryRowContext(ctx, `DELETE FROM console_sessions WHERE token_hash = $1 RETURNING `+consoleCols, tokenHash))
		if err != nil {
			return err
		}
		a, err := backend.Audit(audit, backend.Now(), "admin.signout", cs.Address)
		if err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, a)
	})
	if err != nil {
		return store.ConsoleSession{}, s.fail("delete console session", err)
	}
	return cs, nil
}

// DeleteExpiredConsoleSessions removes ended and idle sessions.
func (s *Store) DeleteExpiredConsoleSessions(ctx context.Context, t, idleBefore time.Time) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE expires_at < $1 OR last_seen_at < $2`, s.ts(t), s.ts(idleBefore))
		if err != nil {
			return err
		}
		n = affected(res)
		return nil
	})
	if err != nil {
		return 0, s.fail("delete expired console sessions", err)
	}
	return n, nil
}
