package conformance

import (
	"sync"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func rateWindow(start time.Time) store.RateWindow {
	return store.RateWindow{Start: start, Length: time.Minute}
}

func runRateLimits(t *testing.T, newStore NewStore) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	t.Run("CountsPerKeyAndWindow", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := t.Context()
		w := rateWindow(t0)
		for i := 1; i <= 3; i++ {
			c, err := s.HitRateLimit(ctx, "login-ip:10.0.0.1", w, 1)
			if err != nil || c.Hits != i || c.PrevHits != 0 || !c.WindowStart.Equal(t0) {
				t.Fatalf("hit %d = %+v, %v", i, c, err)
			}
		}
		if c, err := s.HitRateLimit(ctx, "login-ip:10.0.0.2", w, 1); err != nil || c.Hits != 1 {
			t.Fatalf("another key = %+v, %v", c, err)
		}
		if c, err := s.RateLimitHits(ctx, "login-ip:10.0.0.1", w); err != nil || c.Hits != 3 || c.PrevHits != 0 {
			t.Fatalf("RateLimitHits = %+v, %v", c, err)
		}
		if c, err := s.RateLimitHits(ctx, "login-ip:unknown", w); err != nil || c.Hits != 0 || c.PrevHits != 0 {
			t.Fatalf("RateLimitHits of an unknown key = %+v, %v", c, err)
		}
		// The next window carries the count over as the previous one.
		next := rateWindow(t0.Add(time.Minute))
		if c, err := s.RateLimitHits(ctx, "login-ip:10.0.0.1", next); err != nil || c.Hits != 0 || c.PrevHits != 3 {
			t.Fatalf("RateLimitHits in the next window = %+v, %v", c, err)
		}
		if c, err := s.HitRateLimit(ctx, "login-ip:10.0.0.1", next, 1); err != nil || c.Hits != 1 || c.PrevHits != 3 || !c.WindowStart.Equal(next.Start) {
			t.Fatalf("first hit of the next window = %+v, %v", c, err)
		}
		// A replica whose clock lags charges the current window, never resets it.
		if c, err := s.HitRateLimit(ctx, "login-ip:10.0.0.1", w, 1); err != nil || c.Hits != 2 || c.PrevHits != 3 || !c.WindowStart.Equal(next.Start) {
			t.Fatalf("a hit for the previous window = %+v, %v", c, err)
		}
		// n = 0 charges nothing.
		if c, err := s.HitRateLimit(ctx, "login-ip:10.0.0.1", next, 0); err != nil || c.Hits != 2 {
			t.Fatalf("a zero hit = %+v, %v", c, err)
		}
		// After a gap both windows start from nothing.
		later := rateWindow(t0.Add(10 * time.Minute))
		if c, err := s.RateLimitHits(ctx, "login-ip:10.0.0.1", later); err != nil || c.Hits != 0 || c.PrevHits != 0 {
			t.Fatalf("RateLimitHits after a gap = %+v, %v", c, err)
		}
		if c, err := s.HitRateLimit(ctx, "login-ip:10.0.0.1", later, 1); err != nil || c.Hits != 1 || c.PrevHits != 0 {
			t.Fatalf("a hit after a gap = %+v, %v", c, err)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, tc := range []struct {
			key string
			w   store.RateWindow
			n   int
		}{{"", rateWindow(t0), 1}, {"k", rateWindow(t0), -1}, {"k", store.RateWindow{Start: t0}, 1}} {
			if _, err := s.HitRateLimit(t.Context(), tc.key, tc.w, tc.n); err == nil {
				t.Errorf("HitRateLimit(%q, %+v, %d) accepted", tc.key, tc.w, tc.n)
			}
		}
	})
	t.Run("ConcurrentHitsAreAllCounted", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		w := rateWindow(t0)
		const n = 40
		seen := make(chan int, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := s.HitRateLimit(t.Context(), "shared", w, 1)
				if err != nil {
					t.Error(err)
					return
				}
				seen <- c.Hits
			}()
		}
		wg.Wait()
		close(seen)
		got := map[int]bool{}
		for h := range seen {
			got[h] = true
		}
		// Every hit saw a distinct count: none was lost or double-counted.
		for i := 1; i <= n; i++ {
			if !got[i] {
				t.Fatalf("no hit saw count %d: %v", i, got)
			}
		}
	})
	t.Run("Sweep", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := t.Context()
		if _, err := s.HitRateLimit(ctx, "old", rateWindow(t0), 1); err != nil {
			t.Fatal(err)
		}
		if _, err := s.HitRateLimit(ctx, "recent", rateWindow(t0.Add(time.Minute)), 1); err != nil {
			t.Fatal(err)
		}
		// At t0+2m "old" no longer matters; "recent" still counts as the
		// previous window.
		n, err := s.DeleteExpiredRateLimits(ctx, t0.Add(2*time.Minute))
		if err != nil || n != 1 {
			t.Fatalf("DeleteExpiredRateLimits = %d, %v", n, err)
		}
		if c, _ := s.RateLimitHits(ctx, "recent", rateWindow(t0.Add(2*time.Minute))); c.PrevHits != 1 {
			t.Fatalf("a counter still in use was swept: %+v", c)
		}
	})
}
