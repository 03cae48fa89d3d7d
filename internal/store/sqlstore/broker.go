package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

const brokerCols = `id, token_hash, qortal_address, auth_time, created_at, last_seen_at, expires_at, user_agent`

func scanBrokerSession(row scanner) (store.BrokerSession, error) {
	var (
		bs                          store.BrokerSession
		auth, created, seen, expire string
	)
	if err := row.Scan(&bs.ID, &bs.TokenHash, &bs.QortalAddress, &auth, &created, &seen, &expire, &bs.UserAgent); err != nil {
		return store.BrokerSession{}, err
	}
	for _, f := range []struct {
		dst *time.Time
		src string
	}{{&bs.AuthTime, auth}, {&bs.CreatedAt, created}, {&bs.LastSeenAt, seen}, {&bs.ExpiresAt, expire}} {
		t, err := parseTS(f.src)
		if err != nil {
			return store.BrokerSession{}, err
		}
		*f.dst = t
	}
	return bs, nil
}

// brokerSessionForLogin does the broker-session part of CompleteAuthRequest
// inside its transaction and returns the id the OIDC session records.
func (s *Store) brokerSessionForLogin(ctx context.Context, tx *Tx, c store.AuthCompletion, now time.Time) (string, error) {
	switch {
	case c.NewBrokerSession != nil:
		bs := *c.NewBrokerSession
		if _, err := tx.ExecContext(ctx, `INSERT INTO broker_sessions (`+brokerCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
			bs.ID, bs.TokenHash, bs.QortalAddress, s.ts(bs.AuthTime), s.ts(bs.CreatedAt), s.ts(bs.LastSeenAt),
			s.ts(bs.ExpiresAt), bs.UserAgent); err != nil {
			return "", err
		}
		if old := c.ReplacesBrokerSessionID; old != "" && old != bs.ID {
			if _, err := tx.ExecContext(ctx, `UPDATE oidc_sessions SET broker_session_id = $1
				WHERE broker_session_id = $2 AND qortal_address = $3 AND ended_at IS NULL`, bs.ID, old, bs.QortalAddress); err != nil {
				return "", err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM broker_sessions WHERE id = $1`, old); err != nil {
				return "", err
			}
		}
		return bs.ID, nil
	case c.BrokerSessionID != "":
		// One conditional UPDATE both checks the session is still live for
		// this address and records its use: a session ended concurrently
		// (sign-out elsewhere, block) cannot vouch for the login.
		res, err := tx.ExecContext(ctx, `UPDATE broker_sessions SET last_seen_at = CASE WHEN last_seen_at > $1 THEN last_seen_at ELSE $1 END
			WHERE id = $2 AND qortal_address = $3 AND expires_at > $1`, s.ts(now), c.BrokerSessionID, c.QortalAddress)
		if err != nil {
			return "", err
		}
		if affected(res) == 0 {
			return "", sql.ErrNoRows
		}
		return c.BrokerSessionID, nil
	}
	return "", nil
}

// CreateBrokerSession inserts bs, replacing the browser's previous
// session as a login does (brokerSessionForLogin).
func (s *Store) CreateBrokerSession(ctx context.Context, bs store.BrokerSession, replaces string) error {
	if err := store.CheckBrokerSession(bs); err != nil {
		return fmt.Errorf("create broker session: %w", err)
	}
	err := s.inTx(ctx, func(tx *Tx) error {
		_, err := s.brokerSessionForLogin(ctx, tx, store.AuthCompletion{QortalAddress: bs.QortalAddress,
			NewBrokerSession: &bs, ReplacesBrokerSessionID: replaces}, backend.Now())
		return err
	})
	if err != nil {
		return s.fail("create broker session", err)
	}
	return nil
}

// GetBrokerSessionByToken returns a session whatever its times.
func (s *Store) GetBrokerSessionByToken(ctx context.Context, tokenHash string) (store.BrokerSession, error) {
	bs, err := readOne(ctx, s, scanBrokerSession, `SELECT `+brokerCols+` FROM broker_sessions WHERE token_hash = $1`, tokenHash)
	if err != nil {
		return store.BrokerSession{}, s.fail("get broker session", err)
	}
	return bs, nil
}

// GetBrokerSession returns a session by its public id.
func (s *Store) GetBrokerSession(ctx context.Context, id string) (store.BrokerSession, error) {
	bs, err := readOne(ctx, s, scanBrokerSession, `SELECT `+brokerCols+` FROM broker_sessions WHERE id = $1`, id)
	if err != nil {
		return store.BrokerSession{}, s.fail("get broker session", err)
	}
	return bs, nil
}

// ListBrokerSessions returns the address's live sessions, most recently used first.
func (s *Store) ListBrokerSessions(ctx context.Context, address string, now time.Time) ([]store.BrokerSession, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT `+brokerCols+` FROM broker_sessions WHERE qortal_address = $1 AND expires_at > $2
		ORDER BY last_seen_at DESC, id LIMIT 200`, address, s.ts(now))
	if err != nil {
		return nil, s.fail("list broker sessions", err)
	}
	defer rows.Close()
	var out []store.BrokerSession
	for rows.Next() {
		bs, err := scanBrokerSession(rows)
		if err != nil {
			return nil, s.fail("list broker sessions", err)
		}
		out = append(out, bs)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list broker sessions", err)
	}
	return out, nil
}

// TouchBrokerSession moves last_seen_at forward.
func (s *Store) TouchBrokerSession(ctx context.Context, id string, at time.Time) error {
	return s.touchLastSeen(ctx, "touch broker session", `UPDATE broker_sessions SET `+lastSeenForward+` WHERE id = $1`, id, at)
}

// lastSeenForward never moves last_seen_at back ($2 is the new time): a
// slower request of the same session may finish after a faster one. Text
// order is time order in both databases' encodings.
const lastSeenForward = `last_seen_at = CASE WHEN last_seen_at > $2 THEN last_seen_at ELSE $2 END`

// touchLastSeen runs one lastSeenForward UPDATE keyed by $1; no row is
// ErrNotFound.
func (s *Store) touchLastSeen(ctx context.Context, what, query, key string, at time.Time) error {
	err := s.oneStatement(ctx, func(q queryer) error {
		res, err := q.ExecContext(ctx, query, key, s.ts(at))
		if err != nil {
			return err
		}
		if affected(res) == 0 {
			return sql.ErrNoRows
		}
		return nil
	})
	if err != nil {
		return s.fail(what, err)
	}
	return nil
}

// endOIDCSessions ends the open OIDC sessions the WHERE clause selects
// (one conditional UPDATE, so each is reported by exactly one caller) and
// revokes their tokens.
func (s *Store) endOIDCSessions(ctx context.Context, tx *Tx, where string, arg any, now time.Time) ([]store.Session, error) {
	rows, err := tx.QueryContext(ctx, `UPDATE oidc_sessions SET ended_at = $1 WHERE `+where+` AND ended_at IS NULL RETURNING `+sessionCols,
		s.ts(now), arg)
	if err != nil {
		return nil, err
	}
	var out []store.Session
	for rows.Next() {
		ss, err := scanSession(rows)
		if err != nil {
			_ = rows.Close()
			return nil, err
		}
		out = append(out, ss)
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, ss := range out {
		if err := s.revokeSessionTokens(ctx, tx, ss.ID, now); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EndBrokerSession deletes the session and ends the OIDC sessions it opened.
func (s *Store) EndBrokerSession(ctx context.Context, id string, now time.Time) (store.BrokerSession, []store.Session, error) {
	var (
		bs    store.BrokerSession
		ended []store.Session
	)
	err := s.inTx(ctx, func(tx *Tx) error {
		var err error
		if bs, err = scanBrokerSession(tx.QueryRowContext(ctx, `DELETE FROM broker_sessions WHERE id = $1 RETURNING `+brokerCols, id)); err != nil {
			return err
		}
		ended, err = s.endOIDCSessions(ctx, tx, `broker_session_id = $2`, id, now)
		return err
	})
	if err != nil {
		return store.BrokerSession{}, nil, s.fail("end broker session", err)
	}
	return bs, ended, nil
}

// EndAllSessionsForAddress signs the address out everywhere.
func (s *Store) EndAllSessionsForAddress(ctx context.Context, address string, now time.Time) ([]store.BrokerSession, []store.Session, error) {
	var (
		gone  []store.BrokerSession
		ended []store.Session
	)
	err := s.inTx(ctx, func(tx *Tx) error {
		gone, ended = nil, nil
		rows, err := tx.QueryContext(ctx, `DELETE FROM broker_sessions WHERE qortal_address = $1 RETURNING `+brokerCols, address)
		if err != nil {
			return err
		}
		for rows.Next() {
			bs, err := scanBrokerSession(rows)
			if err != nil {
				_ = rows.Close()
				return err
			}
			gone = append(gone, bs)
		}
		_ = rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ended, err = s.endOIDCSessions(ctx, tx, `qortal_address = $2`, address, now)
		return err
	})
	if err != nil {
		return nil, nil, s.fail("end all sessions", err)
	}
	return gone, ended, nil
}
