package ratelimit

import (
	"context"
	"log/slog"
	"math"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Shared is a fixed-window Limiter whose counters live in the store, so all
// replicas on one database draw on one budget: at most Limit attempts per
// key in each Window (aligned to the Unix epoch, the same on every replica;
// up to 2*Limit may pass around a window boundary, the usual fixed-window
// trade for one statement per check). Each check is one INSERT ... ON
// CONFLICT on an unlogged table (see sql/postgres/0008_rate_limits.sql).
//
// When the store cannot be reached the check falls back to an in-memory
// bucket with the same rate: limits then hold per replica, and the request
// meets the outage in its own store calls anyway.
type Shared struct {
	store  store.RateLimitStore
	name   string
	limit  int
	window time.Duration
	now    func() time.Time
	local  *Memory
	log    *slog.Logger
}

var _ Limiter = (*Shared)(nil)

// SharedConfig describes one shared limiter.
type SharedConfig struct {
	// Name prefixes keys so limiters do not share counters ("login-ip").
	Name string
	// Limit attempts per Window; zero or negative disables limiting.
	Limit  int
	Window time.Duration // default one minute
	Now    func() time.Time
	Logger *slog.Logger
}

// NewShared returns a limiter counting in st.
func NewShared(st store.RateLimitStore, cfg SharedConfig) *Shared {
	l := &Shared{store: st, name: cfg.Name, limit: cfg.Limit, window: cfg.Window, now: cfg.Now, log: cfg.Logger}
	if l.window <= 0 {
		l.window = time.Minute
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	perMinute := int(math.Ceil(float64(l.limit) * float64(time.Minute) / float64(l.window)))
	l.local = New(Config{PerMinute: max(perMinute, 1), Burst: max(l.limit, 1), Now: l.now})
	return l
}

func (l *Shared) windowAt(now time.Time) store.RateWindow {
	start := now.Truncate(l.window)
	return store.RateWindow{Start: start, Expires: start.Add(l.window)}
}

// retryAt is how long until the window after the one starting at start.
func (l *Shared) retryAt(start, now time.Time) time.Duration {
	return max(start.Add(l.window).Sub(now), time.Second)
}

// Allow charges one attempt to key in the current window.
func (l *Shared) Allow(ctx context.Context, key string) (bool, time.Duration) {
	if l.limit <= 0 {
		return true, 0
	}
	now := l.now()
	c, err := l.store.HitRateLimit(ctx, l.name+":"+key, l.windowAt(now), 1)
	if err != nil {
		l.log.WarnContext(ctx, "shared rate limit unavailable; limiting in this replica only", "limiter", l.name, "err", err)
		return l.local.Allow(ctx, key)
	}
	if c.Hits > l.limit {
		return false, l.retryAt(c.WindowStart, now)
	}
	return true, 0
}

// Over reports whether key has used up the current window, charging nothing.
func (l *Shared) Over(ctx context.Context, key string) (bool, time.Duration) {
	if l.limit <= 0 {
		return false, 0
	}
	now := l.now()
	w := l.windowAt(now)
	hits, err := l.store.RateLimitHits(ctx, l.name+":"+key, w)
	if err != nil {
		l.log.WarnContext(ctx, "shared rate limit unavailable; limiting in this replica only", "limiter", l.name, "err", err)
		return l.local.Over(ctx, key)
	}
	if hits >= l.limit {
		return true, l.retryAt(w.Start, now)
	}
	return false, 0
}
