package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// hitSQL charges $3 hits to key $1 in the window starting at $2, in one
// statement. SET expressions read the row as it was: the same or an older
// window (a lagging clock) adds to the current count; the next window
// shifts the current count into prev_hits; a later one starts afresh.
const hitSQL = `INSERT INTO rate_limits (key, window_start, hits, prev_hits, expires_at) VALUES ($1, $2, $3, 0, $4)
ON CONFLICT (key) DO UPDATE SET
  prev_hits = CASE WHEN rate_limits.window_start >= excluded.window_start THEN rate_limits.prev_hits
                   WHEN rate_limits.window_start = $5 THEN rate_limits.hits ELSE 0 END,
  hits = CASE WHEN rate_limits.window_start >= excluded.window_start THEN rate_limits.hits + excluded.hits ELSE excluded.hits END,
  expires_at = CASE WHEN rate_limits.window_start >= excluded.window_start THEN rate_limits.expires_at ELSE excluded.expires_at END,
  window_start = CASE WHEN rate_limits.window_start >= excluded.window_start THEN rate_limits.window_start ELSE excluded.window_start END
RETURNING hits, prev_hits, window_start`

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
	release, err := s.holdWriter(ctx)
	if err != nil {
		return store.RateCount{}, s.fail("hit rate limit", err)
	}
	defer release()
	err = s.write.QueryRowContext(ctx, hitSQL, key, window.Start.UnixMilli(), n, window.Expires().UnixMilli(),
		window.Previous().UnixMilli()).Scan(&c.Hits, &c.PrevHits, &start)
	if err != nil {
		return store.RateCount{}, s.fail("hit rate limit", err)
	}
	c.WindowStart = time.UnixMilli(start).UTC()
	return c, nil
}

// RateLimitHits implements store.RateLimitStore: the counts the row would
// have after a zero hit in window, computed without writing.
func (s *Store) RateLimitHits(ctx context.Context, key string, window store.RateWindow) (store.RateCount, error) {
	if err := window.Validate(key, 0); err != nil {
		return store.RateCount{}, fmt.Errorf("rate limit hits: %w", err)
	}
	var hits, prev int
	var start int64
	err := s.read.QueryRowContext(ctx, `SELECT hits, prev_hits, window_start FROM rate_limits WHERE key = $1`, key).Scan(&hits, &prev, &start)
	c := store.RateCount{WindowStart: window.Start}
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return store.RateCount{}, s.fail("rate limit hits", err)
	case start >= window.Start.UnixMilli():
		c = store.RateCount{Hits: hits, PrevHits: prev, WindowStart: time.UnixMilli(start).UTC()}
	case start == window.Previous().UnixMilli():
		c.PrevHits = hits
	}
	return c, nil
}

// DeleteExpiredRateLimits implements store.RateLimitStore.
func (s *Store) DeleteExpiredRateLimits(ctx context.Context, now time.Time) (int, error) {
	release, err := s.holdWriter(ctx)
	if err != nil {
		return 0, s.fail("delete expired rate limits", err)
	}
	defer release()
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
