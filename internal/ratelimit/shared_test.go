package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/clocktest"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// Two limiters on two handles of one database (two replicas) draw on one
// budget, and a window later there is a new one.
func TestSharedLimitIsOneBudgetAcrossReplicas(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			open := storetest.Shared(t, kind)
			clk := newClock()
			cfg := SharedConfig{Name: "login-ip", Limit: 5, Window: time.Minute, Now: clk.Now}
			a, b := NewShared(open(t), cfg), NewShared(open(t), cfg)
			ctx := context.Background()
			allowed := 0
			for i := 0; i < 10; i++ {
				l := a
				if i%2 == 1 {
					l = b
				}
				if ok, _ := l.Allow(ctx, "10.0.0.1"); ok {
					allowed++
				}
			}
			if allowed != 5 {
				t.Fatalf("two replicas allowed %d of 10, want 5 (one budget)", allowed)
			}
			ok, retry := b.Allow(ctx, "10.0.0.1")
			if ok || retry <= 0 || retry > time.Minute {
				t.Fatalf("over the limit: ok=%v retry=%v", ok, retry)
			}
			if over, _ := a.Over(ctx, "10.0.0.1"); !over {
				t.Fatal("Over = false for a used-up key")
			}
			if over, _ := a.Over(ctx, "10.0.0.2"); over {
				t.Fatal("Over = true for a fresh key")
			}
			if ok, _ := a.Allow(ctx, "10.0.0.2"); !ok {
				t.Fatal("another key shares the budget")
			}
			other := NewShared(open(t), SharedConfig{Name: "login-addr", Limit: 5, Now: clk.Now})
			if ok, _ := other.Allow(ctx, "10.0.0.1"); !ok {
				t.Fatal("another limiter shares the counter")
			}
			clk.Advance(2 * time.Minute)
			if ok, _ := a.Allow(ctx, "10.0.0.1"); !ok {
				t.Fatal("still refused a whole window later")
			}
		})
	}
}

// Without the store the limit still holds, in this replica.
func TestSharedFallsBackToMemoryWhenTheStoreIsDown(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	clk := newClock()
	l := NewShared(st, SharedConfig{Name: "login-ip", Limit: 3, Window: time.Minute, Now: clk.Now})
	st.Close()
	allowed := 0
	for i := 0; i < 10; i++ {
		if ok, _ := l.Allow(context.Background(), "10.0.0.1"); ok {
			allowed++
		}
	}
	if allowed != 3 {
		t.Fatalf("allowed %d of 10 with the store down, want 3", allowed)
	}
}

// The budget slides: a burst at the end of one window still counts at the
// start of the next, and frees up as that window passes.
func TestSharedWindowSlides(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	clk := clocktest.New(time.Date(2026, 1, 2, 3, 4, 50, 0, time.UTC)) // 10 s before a window ends
	l := NewShared(st, SharedConfig{Name: "k", Limit: 4, Window: time.Minute, Now: clk.Now})
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		if ok, _ := l.Allow(ctx, "ip"); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	clk.Advance(15 * time.Second) // 5 s into the next window
	ok, retry := l.Allow(ctx, "ip")
	if ok {
		t.Fatal("a fixed window would reset here; the sliding one must not")
	}
	if retry <= 0 || retry > time.Minute {
		t.Fatalf("retry = %v", retry)
	}
	clk.Advance(retry)
	if ok, _ := l.Allow(ctx, "ip"); !ok {
		t.Fatalf("still refused after the advertised %v", retry)
	}
}
