package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/clocktest"
)

func newClock() *clocktest.Clock { return clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) }

func TestBurstThenDeny(t *testing.T) {
	clk := newClock()
	l := New(Config{PerMinute: 6, Now: clk.Now}) // one token per 10 s, burst 6
	for i := range 6 {
		if ok, _ := l.Allow(context.Background(), "a"); !ok {
			t.Fatalf("request %d of burst denied", i+1)
		}
	}
	ok, retry := l.Allow(context.Background(), "a")
	if ok {
		t.Fatal("7th request allowed past the burst")
	}
	if retry <= 9*time.Second || retry > 10*time.Second {
		t.Fatalf("retryAfter = %v, want ~10s", retry)
	}
	// Other keys are independent.
	if ok, _ := l.Allow(context.Background(), "b"); !ok {
		t.Fatal("key b limited by key a")
	}
}

func TestRefillAfterRetryAfter(t *testing.T) {
	clk := newClock()
	l := New(Config{PerMinute: 60, Burst: 1, Now: clk.Now})
	if ok, _ := l.Allow(context.Background(), "k"); !ok {
		t.Fatal("first request denied")
	}
	ok, retry := l.Allow(context.Background(), "k")
	if ok {
		t.Fatal("second immediate request allowed with burst 1")
	}
	clk.Advance(retry - time.Millisecond)
	if ok, _ := l.Allow(context.Background(), "k"); ok {
		t.Fatal("allowed before retryAfter elapsed")
	}
	clk.Advance(2 * time.Millisecond)
	if ok, _ := l.Allow(context.Background(), "k"); !ok {
		t.Fatal("denied after retryAfter elapsed")
	}
}

func TestRefillCapsAtBurst(t *testing.T) {
	clk := newClock()
	l := New(Config{PerMinute: 60, Burst: 3, MaxKeys: 10, Now: clk.Now})
	l.Allow(context.Background(), "k")
	clk.Advance(time.Hour)
	allowed := 0
	for range 10 {
		if ok, _ := l.Allow(context.Background(), "k"); ok {
			allowed++
		}
	}
	if allowed != 3 {
		t.Fatalf("after a long idle period %d requests passed, want the burst of 3", allowed)
	}
}

func TestIdleKeysAreEvicted(t *testing.T) {
	clk := newClock()
	l := New(Config{PerMinute: 60, Burst: 5, Now: clk.Now})
	for i := range 100 {
		l.Allow(context.Background(), fmt.Sprint("ip", i))
	}
	if n := l.Len(); n != 100 {
		t.Fatalf("Len = %d, want 100", n)
	}
	clk.Advance(5 * time.Second) // long enough for every bucket to refill
	l.Allow(context.Background(), "fresh")
	if n := l.Len(); n != 1 {
		t.Fatalf("Len after idle = %d, want 1 (idle full buckets dropped)", n)
	}
}

func TestBusyKeyIsNotEvictedAsIdle(t *testing.T) {
	clk := newClock()
	l := New(Config{PerMinute: 60, Burst: 2, Now: clk.Now})
	l.Allow(context.Background(), "busy")
	l.Allow(context.Background(), "busy")
	clk.Advance(time.Second) // not yet full (needs 2 s from empty)
	l.Allow(context.Background(), "other")
	if n := l.Len(); n != 2 {
		t.Fatalf("Len = %d, want 2: a bucket still refilling was evicted", n)
	}
}

func TestMaxKeysBoundsMemory(t *testing.T) {
	clk := newClock()
	l := New(Config{PerMinute: 1, MaxKeys: 50, Now: clk.Now})
	for i := range 1000 {
		l.Allow(context.Background(), fmt.Sprint("k", i))
		if n := l.Len(); n > 50 {
			t.Fatalf("Len = %d exceeds MaxKeys 50", n)
		}
	}
	// The most recent key keeps its state: it is limited.
	if ok, _ := l.Allow(context.Background(), "k999"); ok {
		t.Fatal("recent key lost its state")
	}
}

func TestDisabled(t *testing.T) {
	l := New(Config{PerMinute: 0})
	for range 1000 {
		if ok, _ := l.Allow(context.Background(), "x"); !ok {
			t.Fatal("disabled limiter denied")
		}
	}
	var nilL *Memory
	if ok, _ := nilL.Allow(context.Background(), "x"); !ok {
		t.Fatal("nil limiter denied")
	}
}

func TestConcurrentUseCountsEveryToken(t *testing.T) {
	clk := newClock()
	l := New(Config{PerMinute: 100, Now: clk.Now})
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if ok, _ := l.Allow(context.Background(), "shared"); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if allowed != 100 {
		t.Fatalf("%d of 400 concurrent requests allowed, want exactly the burst of 100", allowed)
	}
}

func BenchmarkAllowSameKey(b *testing.B) {
	l := New(Config{PerMinute: 1 << 30})
	for b.Loop() {
		l.Allow(context.Background(), "203.0.113.7")
	}
}

func BenchmarkAllowManyKeys(b *testing.B) {
	l := New(Config{PerMinute: 30, MaxKeys: 10_000})
	keys := make([]string, 50_000)
	for i := range keys {
		keys[i] = fmt.Sprintf("198.51.%d.%d", i/256, i%256)
	}
	i := 0
	for b.Loop() {
		l.Allow(context.Background(), keys[i%len(keys)])
		i++
	}
}

func BenchmarkAllowParallel(b *testing.B) {
	l := New(Config{PerMinute: 1 << 30, MaxKeys: 10_000})
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(context.Background(), fmt.Sprint(i%1000))
			i++
		}
	})
}
