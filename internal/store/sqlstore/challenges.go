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

const challengeCols = `id, purpose, qortal_address, message, auth_request_id, client_id, created_at, expires_at, used_at`

func scanChallenge(row scanner) (store.Challenge, error) {
	var (
		c                store.Challenge
		created, expires string
		used             sql.NullString
	)
	if err := row.Scan(&c.ID, &c.Purpose, &c.QortalAddress, &c.Message, &c.AuthRequestID, &c.ClientID,
		&created, &expires, &used); err != nil {
		return store.Challenge{}, err
	}
	var err error
	if c.CreatedAt, err = parseTS(created); err != nil {
		return store.Challenge{}, err
	}
	if c.ExpiresAt, err = parseTS(expires); err != nil {
		return store.Challenge{}, err
	}
	if c.UsedAt, err = parseNullTS(used); err != nil {
		return store.Challenge{}, err
	}
	return c, nil
}

// CreateChallenge stores a new, unused challenge.
func (s *Store) CreateChallenge(ctx context.Context, c store.Challenge) error {
	c, err := backend.Challenge(c, backend.Now())
	if err != nil {
		return fmt.Errorf("create challenge: %w", err)
	}
	err = s.oneStatement(ctx, func(q queryer) error {
		_, err := q.ExecContext(ctx, `INSERT INTO challenges (`+challengeCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)`,
			c.ID, c.Purpose, c.QortalAddress, c.Message, c.AuthRequestID, c.ClientID, s.ts(c.CreatedAt), s.ts(c.ExpiresAt))
		return err
	})
	if s.unique(err, "challenges", "id") {
		return fmt.Errorf("create challenge: id already exists")
	}
	if err != nil {
		return s.fail("create challenge", err)
	}
	return nil
}

// GetChallenge returns the challenge whatever its state.
func (s *Store) GetChallenge(ctx context.Context, id string) (store.Challenge, error) {
	c, err := readOne(ctx, s, scanChallenge, `SELECT `+challengeCols+` FROM challenges WHERE id = $1`, id)
	if err != nil {
		return store.Challenge{}, s.fail("get challenge", err)
	}
	return c, nil
}

// ConsumeChallenge marks the challenge used at now. The single conditional
// UPDATE is what makes it once-only: SQLite runs it on the single writer
// connection, and Postgres re-checks the WHERE clause of a row another
// transaction just changed, so of any number of concurrent consumers
// exactly one gets the row back.
func (s *Store) ConsumeChallenge(ctx context.Context, id string, now time.Time) (store.Challenge, error) {
	if now.IsZero() {
		now = backend.Now()
	}
	var c store.Challenge
	err := s.oneStatement(ctx, func(q queryer) error {
		var err error
		c, err = scanChallenge(q.QueryRowContext(ctx, `UPDATE challenges SET used_at = $2
			WHERE id = $1 AND used_at IS NULL AND expires_at > $2 RETURNING `+challengeCols, id, s.ts(now)))
		return err
	})
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return store.Challenge{}, s.fail("consume challenge", err)
	}
	// Nothing updated: say why. A concurrent consumer may have won in the
	// meantime, in which case "used" is the right answer.
	var used sql.NullString
	err = s.reader().QueryRowContext(ctx, `SELECT used_at FROM challenges WHERE id = $1`, id).Scan(&used)
	switch {
	case err != nil:
		return store.Challenge{}, s.fail("consume challenge", err)
	case used.Valid:
		return store.Challenge{}, fmt.Errorf("consume challenge: %w", store.ErrChallengeUsed)
	default:
		return store.Challenge{}, fmt.Errorf("consume challenge: %w", store.ErrChallengeExpired)
	}
}

// DeleteExpiredChallenges removes challenges that expired before t, used or not.
func (s *Store) DeleteExpiredChallenges(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM challenges WHERE expires_at < $1`, s.ts(t))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, s.fail("delete expired challenges", err)
	}
	return int(n), nil
}

// useChallenge inserts c as used at now inside q's transaction: the primary
// key makes it once-only (a concurrent second insert waits for the first
// and then violates it).
func (s *Store) useChallenge(ctx context.Context, q queryer, c store.Challenge, now time.Time) error {
	if !backend.Time(now).Before(c.ExpiresAt) {
		return store.ErrChallengeExpired
	}
	_, err := q.ExecContext(ctx, `INSERT INTO challenges (`+challengeCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.ID, c.Purpose, c.QortalAddress, c.Message, c.AuthRequestID, c.ClientID, s.ts(c.CreatedAt), s.ts(c.ExpiresAt), s.ts(now))
	if s.unique(err, "challenges", "id") {
		return store.ErrChallengeUsed
	}
	return err
}

// UseChallenge records a challenge that was issued without being stored as
// used, exactly once.
func (s *Store) UseChallenge(ctx context.Context, c store.Challenge, now time.Time) error {
	if now.IsZero() {
		now = backend.Now()
	}
	c.UsedAt = nil
	c, err := backend.Challenge(c, backend.Now())
	if err != nil {
		return fmt.Errorf("use challenge: %w", err)
	}
	err = s.oneStatement(ctx, func(q queryer) error { return s.useChallenge(ctx, q, c, now) })
	if errors.Is(err, store.ErrChallengeUsed) || errors.Is(err, store.ErrChallengeExpired) {
		return fmt.Errorf("use challenge: %w", err)
	}
	if err != nil {
		return s.fail("use challenge", err)
	}
	return nil
}
