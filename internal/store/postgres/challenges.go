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

const challengeCols = `id, purpose, qortal_address, message, auth_request_id, client_id, created_at, expires_at, used_at`

func scanChallenge(row pgx.Row) (store.Challenge, error) {
	var (
		c    store.Challenge
		used *time.Time
	)
	if err := row.Scan(&c.ID, &c.Purpose, &c.QortalAddress, &c.Message, &c.AuthRequestID, &c.ClientID,
		&c.CreatedAt, &c.ExpiresAt, &used); err != nil {
		return store.Challenge{}, err
	}
	c.CreatedAt, c.ExpiresAt = c.CreatedAt.UTC(), c.ExpiresAt.UTC()
	if used != nil {
		u := used.UTC()
		c.UsedAt = &u
	}
	return c, nil
}

// CreateChallenge stores a new, unused challenge.
func (s *Store) CreateChallenge(ctx context.Context, c store.Challenge) error {
	c, err := backend.Challenge(c, backend.Now())
	if err != nil {
		return fmt.Errorf("create challenge: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO challenges (`+challengeCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)`,
		c.ID, c.Purpose, c.QortalAddress, c.Message, c.AuthRequestID, c.ClientID, c.CreatedAt, c.ExpiresAt)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("create challenge: id already exists")
	}
	if err != nil {
		return s.fail("create challenge", err)
	}
	return nil
}

// GetChallenge returns the challenge whatever its state.
func (s *Store) GetChallenge(ctx context.Context, id string) (store.Challenge, error) {
	c, err := scanChallenge(s.pool.QueryRow(ctx, `SELECT `+challengeCols+` FROM challenges WHERE id = $1`, id))
	if err != nil {
		return store.Challenge{}, s.fail("get challenge", err)
	}
	return c, nil
}

// ConsumeChallenge marks the challenge used at now. The single conditional
// UPDATE is what makes it once-only across replicas: Postgres re-checks the
// WHERE clause of a row another transaction just changed, so of any number
// of concurrent consumers exactly one gets the row back.
func (s *Store) ConsumeChallenge(ctx context.Context, id string, now time.Time) (store.Challenge, error) {
	if now.IsZero() {
		now = backend.Now()
	}
	now = backend.Time(now)
	c, err := scanChallenge(s.pool.QueryRow(ctx, `UPDATE challenges SET used_at = $2
		WHERE id = $1 AND used_at IS NULL AND expires_at > $2 RETURNING `+challengeCols, id, now))
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return store.Challenge{}, s.fail("consume challenge", err)
	}
	// Nothing updated: say why. A concurrent consumer may have won in the
	// meantime, in which case "used" is the right answer.
	var (
		used    *time.Time
		expires time.Time
	)
	err = s.pool.QueryRow(ctx, `SELECT used_at, expires_at FROM challenges WHERE id = $1`, id).Scan(&used, &expires)
	switch {
	case err != nil:
		return store.Challenge{}, s.fail("consume challenge", err)
	case used != nil:
		return store.Challenge{}, fmt.Errorf("consume challenge: %w", store.ErrChallengeUsed)
	default:
		return store.Challenge{}, fmt.Errorf("consume challenge: %w", store.ErrChallengeExpired)
	}
}

// DeleteExpiredChallenges removes challenges that expired before t, used or not.
func (s *Store) DeleteExpiredChallenges(ctx context.Context, t time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM challenges WHERE expires_at < $1`, backend.Time(t))
	if err != nil {
		return 0, s.fail("delete expired challenges", err)
	}
	return int(tag.RowsAffected()), nil
}
