package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// Two limiters on two handles of one database (two replicas) draw on one
// budget, and a new window starts a new one.
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
			clk.Advance(time.Minute)
			if ok, _ := a.Allow(ctx, "10.0.0.1"); !ok {
				t.Fatal("the next window is still refused")
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
