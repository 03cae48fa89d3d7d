package store

import (
	"context"
	"errors"
	"time"
)

// RateWindow is one fixed window of a rate limit: hits charged in it count
// until Start+length, and its row may be swept after Expires.
type RateWindow struct {
	Start   time.Time
	Expires time.Time
}

// Validate checks a hit before it reaches the database.
func (w RateWindow) Validate(key string, n int) error {
	switch {
	case key == "" || len(key) > 512:
		return errors.New("rate limit key must be 1-512 bytes")
	case n < 0:
		return errors.New("rate limit hits must not be negative")
	case w.Start.IsZero() || !w.Expires.After(w.Start):
		return errors.New("rate window must start and expire after its start")
	}
	return nil
}

// RateCount is a key's count after a hit.
type RateCount struct {
	Hits        int       // hits in WindowStart's window, this one included
	WindowStart time.Time // the window counted (newer than asked if the caller's clock lags)
}

// RateLimitStore keeps fixed-window counters shared by every replica on one
// database (package ratelimit decides what to count).
type RateLimitStore interface {
	// HitRateLimit charges n hits (n may be 0: a read that still creates
	// the row) to key in window and returns the count, in one statement.
	HitRateLimit(ctx context.Context, key string, window RateWindow, n int) (RateCount, error)
	// RateLimitHits reports key's hits in window without charging any.
	RateLimitHits(ctx context.Context, key string, window RateWindow) (int, error)
	// DeleteExpiredRateLimits removes counters whose window expired by now.
	DeleteExpiredRateLimits(ctx context.Context, now time.Time) (int, error)
}
