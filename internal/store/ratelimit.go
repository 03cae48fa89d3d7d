package store

import (
	"context"
	"errors"
	"time"
)

// RateWindow is one fixed window of a rate limit. The counter of a key keeps
// this window's hits and the previous window's (Start-Length), from which
// the limiter estimates a sliding window; the row may be swept once both
// are over (Expires).
type RateWindow struct {
	Start  time.Time
	Length time.Duration
}

// Previous is the start of the window before w.
func (w RateWindow) Previous() time.Time { return w.Start.Add(-w.Length) }

// Expires is when w's counts stop mattering: the end of the window after it.
func (w RateWindow) Expires() time.Time { return w.Start.Add(2 * w.Length) }

// Validate checks a hit before it reaches the database.
func (w RateWindow) Validate(key string, n int) error {
	switch {
	case key == "" || len(key) > 512:
		return errors.New("rate limit key must be 1-512 bytes")
	case n < 0:
		return errors.New("rate limit hits must not be negative")
	case w.Start.IsZero() || w.Length < time.Millisecond:
		return errors.New("rate window needs a start and a length of at least 1 ms")
	}
	return nil
}

// RateCount is a key's counts in a window.
type RateCount struct {
	Hits        int       // hits in the window starting at WindowStart
	PrevHits    int       // hits in the window before it
	WindowStart time.Time // the window counted (newer than asked if the caller's clock lags)
}

// RateLimitStore keeps rate-limit counters shared by every replica on one
// database (package ratelimit decides what to count).
type RateLimitStore interface {
	// HitRateLimit charges n hits (n may be 0) to key in window and returns
	// its counts afterwards, in one statement. A hit for an older window
	// than the key's current one (a replica whose clock lags) is charged to
	// the current one.
	HitRateLimit(ctx context.Context, key string, window RateWindow, n int) (RateCount, error)
	// RateLimitHits reports key's counts as of window, charging nothing.
	RateLimitHits(ctx context.Context, key string, window RateWindow) (RateCount, error)
	// DeleteExpiredRateLimits removes counters whose windows are all over.
	DeleteExpiredRateLimits(ctx context.Context, now time.Time) (int, error)
}
