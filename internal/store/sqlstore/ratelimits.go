package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// hitSQL charges n hits to key in the window starting at $2 in one
// statement: a newer window restarts the count, an older one (a replica
// whose clock lags) is charged to the current window rather than resetting
// it.
const hitSQL = `INSERT INTO rate_limits (key, window_start, hits, expires_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (key) DO UPDATE SET
  hits = CASE WHEN rate_limits.window_start >= excluded.window_start THEN rate_limits.hits + excluded.hits ELSE excluded.hits END,
  expires_at = CASE WHEN rate_limits.window_start >= excluded.window_start THEN rate_limits.expires_at ELSE excluded.expires_at END,
  window_start = CASE WHEN rate_limits.window_start >= excluded.window_start THEN rate_limits.window_start ELSE excluded.window_start END
RETURNING hits, window_start`

// HitRateLimit implements store.RateLimitStore. It runs in autocommit even
// where single writes otherwise get a transaction: it is one statement.
// It deliberately bypasses s.exec and is not counted in WriteTransactions:
// on Postgres the table is UNLOGGED, so the statement writes no WAL and its
// commit waits for no disk flush; it is not a durable write. (The embedded
// store keeps limits in memory and never calls it outside the conformance
// suite.)
func (s *Store) HitRateLimit(ctx context.Context, key string, window store.RateWindow, n int) (store.RateCount, error) {
	if err := window.Validate(key, n); err != nil {
		return store.RateCount{}, fmt.Errorf("hit rate limit: %w", err)
	}
	var c store.RateCount
	var start int64
	err := s.write.QueryRowContext(ctx, hitSQL, key, window.Start.UnixMilli(), n, window.Expires.UnixMilli()).Scan(&c.Hits, &start)
	if err != nil {
		return store.RateCount{}, s.fail("hit rate limit", err)
	}
	c.WindowStart = time.UnixMilli(start).UTC()
	return c, nil
}

// RateLimitHits implements store.RateLimitStore.
func (s *Store) RateLimitHits(ctx context.Context, key string, window store.RateWindow) (int, error) {
	var hits int
	var start int64
	err := s.read.QueryRowContext(ctx, `SELECT hits, window_start FROM rate_limits WHERE key = $1`, key).Scan(&hits, &start)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, s.fail("rate limit hits", err)
	case start < window.Start.UnixMilli():
		return 0, nil // an earlier window's count
	}
	return hits, nil
}

// DeleteExpiredRateLimits implements store.RateLimitStore.
func (s *Store) DeleteExpiredRateLimits(ctx context.Context, now time.Time) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM rate_limits WHERE expires_at <= $1`, now.UnixMilli())
	if err != nil {
		return 0, s.fail("delete expired rate limits", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.fail("delete expired rate limits", err)
	}
	return int(n), nil
}
