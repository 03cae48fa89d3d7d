package ratelimit

import (
	"context"
	"log/slog"
	"math"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Shared is a Limiter whose counters live in the store, so all replicas on
// one database draw on one budget: at most Limit attempts per key in any
// Window. It is the sliding-window counter approximation: the store keeps
// the hits of the current fixed window (aligned to the Unix epoch, the same
// on every replica) and of the previous one, and the estimate weights the
// previous window by how much of it still lies within the last Window.
// There is no burst at window boundaries, and each check is one INSERT ...
// ON CONFLICT on an unlogged table (sql/postgres/0008_rate_limits.sql).
// Refused attempts count too: a client that keeps hammering stays out.
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
	return store.RateWindow{Start: now.Truncate(l.window), Length: l.window}
}

// estimate is the sliding-window count at now, and how long until one
// more attempt would fit.
func (l *Shared) estimate(c store.RateCount, now time.Time) (float64, time.Duration) {
	elapsed := max(now.Sub(c.WindowStart), 0) // negative: the store's window is ahead of this clock
	weight := max(1-float64(elapsed)/float64(l.window), 0)
	est := float64(c.PrevHits)*weight + float64(c.Hits)
	// One more fits once prev*w + hits + 1 <= limit, i.e. once the weight
	// is down to (limit-hits-1)/prev; if this window alone leaves no room,
	// not before the next one.
	wait := l.window - elapsed
	if room := float64(l.limit - c.Hits - 1); room >= 0 && c.PrevHits > 0 {
		need := time.Duration((1 - room/float64(c.PrevHits)) * float64(l.window))
		wait = need - elapsed + time.Millisecond
	}
	return est, max(wait, time.Second)
}

// Allow charges one attempt to key.
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
	// The count includes this attempt: allowed while it fits in the limit.
	if est, wait := l.estimate(c, now); est > float64(l.limit) {
		return false, wait
	}
	return true, 0
}

// Over reports whether key's budget is used up (the next Allow would fail),
// charging nothing.
func (l *Shared) Over(ctx context.Context, key string) (bool, time.Duration) {
	if l.limit <= 0 {
		return false, 0
	}
	now := l.now()
	c, err := l.store.RateLimitHits(ctx, l.name+":"+key, l.windowAt(now))
	if err != nil {
		l.log.WarnContext(ctx, "shared rate limit unavailable; limiting in this replica only", "limiter", l.name, "err", err)
		return l.local.Over(ctx, key)
	}
	if est, wait := l.estimate(c, now); est+1 > float64(l.limit) {
		return true, wait
	}
	return false, 0
}
