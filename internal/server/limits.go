package server

import (
	"context"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/ratelimit"
)

// limiter returns the limiter called name allowing perWindow attempts per
// key and window: on Postgres shared by every replica through the store
// (one budget however many replicas run), on the embedded store, which
// serves one process, a token bucket in memory with burst.
// Refusals are counted per limiter (qortal_oidc_rate_limit_refusals_total),
// except the onboarding pace, which delays deliveries rather than refusing
// anyone.
func (s *Server) limiter(name string, perWindow int, window time.Duration, burst int) ratelimit.Limiter {
	var l ratelimit.Limiter
	if s.sharedLimits {
		l = ratelimit.NewShared(s.store, ratelimit.SharedConfig{Name: name, Limit: perWindow, Window: window, Logger: s.log})
	} else {
		perMinute := int(float64(perWindow) * float64(time.Minute) / float64(window))
		l = ratelimit.New(ratelimit.Config{PerMinute: max(perMinute, 1), Burst: burst})
	}
	if name == limitOnboarding {
		return l
	}
	return s.metrics.CountRefusals(name, l)
}

// Limiter names, which prefix the shared counters' keys.
const (
	limitLoginIP       = "login-ip"
	limitLoginAddress  = "login-addr"
	limitConsoleIP     = "console-ip"
	limitConsoleAddr   = "console-addr"
	limitAuthorizeIP   = "authorize-ip"
	limitAdminFailures = "admin-auth-fail"
	limitOnboarding    = "onboarding"
)

// sweepRateLimits deletes expired shared counters (Postgres only; the
// in-memory limiters evict their own idle keys).
func (s *Server) sweepRateLimits(ctx context.Context) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if n, err := s.store.DeleteExpiredRateLimits(ctx, time.Now()); err != nil {
				s.log.Warn("rate limit cleanup failed", "err", err)
			} else if n > 0 {
				s.log.Debug("rate limit cleanup", "deleted", n)
			}
		}
	}
}
