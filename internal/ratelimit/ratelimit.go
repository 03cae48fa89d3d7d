// Package ratelimit limits attempts per key (an IP, an address). Two
// implementations share one interface: Memory, a token bucket in this
// process (the embedded store serves one process), and Shared, fixed-window
// counters in the store that every replica on one Postgres sees, so N
// replicas give one budget, not N.
package ratelimit

import (
	"container/list"
	"context"
	"math"
	"sync"
	"time"
)

// Limiter charges attempts to keys; implementations are safe for
// concurrent use.
type Limiter interface {
	// Allow charges one attempt to key. Over the limit it returns false and
	// how long until an attempt may succeed again.
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration)
	// Over reports, without charging, whether key's limit is used up (the
	// next Allow would fail), for limits charged only on some outcomes
	// (e.g. failed proofs) but checked before the work.
	Over(ctx context.Context, key string) (over bool, retryAfter time.Duration)
}

// DefaultMaxKeys bounds memory when Config.MaxKeys is zero: about 100 bytes
// per key, so 100k keys is ~10 MB.
const DefaultMaxKeys = 100_000

// Config describes one limiter.
type Config struct {
	// PerMinute is the sustained rate. Zero or negative disables limiting.
	PerMinute int
	// Burst is how many requests may arrive at once; zero means PerMinute.
	Burst int
	// MaxKeys bounds how many keys are tracked; zero means DefaultMaxKeys.
	MaxKeys int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

type bucket struct {
	key    string
	tokens float64
	last   time.Time
}

// Memory is a token-bucket Limiter in this process's memory.
type Memory struct {
	rate    float64 // tokens per second
	burst   float64
	maxKeys int
	now     func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element
	// lru orders buckets by last use, least recent at the front, so idle
	// buckets can be dropped from the front in amortised O(1).
	lru *list.List
}

var _ Limiter = (*Memory)(nil)

// New returns an in-memory limiter for cfg.
func New(cfg Config) *Memory {
	l := &Memory{
		rate:    float64(cfg.PerMinute) / 60,
		burst:   float64(cfg.Burst),
		maxKeys: cfg.MaxKeys,
		now:     cfg.Now,
		keys:    make(map[string]*list.Element),
		lru:     list.New(),
	}
	if l.burst <= 0 {
		l.burst = float64(cfg.PerMinute)
	}
	if l.maxKeys <= 0 {
		l.maxKeys = DefaultMaxKeys
	}
	if l.now == nil {
		l.now = time.Now
	}
	return l
}

// Allow takes one token from key's bucket. When none is left it returns
// false and how long until one will be.
func (l *Memory) Allow(_ context.Context, key string) (ok bool, retryAfter time.Duration) {
	return l.take(key, true)
}

// Over reports whether key's bucket is empty, taking nothing.
func (l *Memory) Over(_ context.Context, key string) (over bool, retryAfter time.Duration) {
	ok, retry := l.take(key, false)
	return !ok, retry
}

func (l *Memory) take(key string, charge bool) (ok bool, retryAfter time.Duration) {
	if l == nil || l.rate <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evictIdle(now)
	if !charge {
		el, found := l.keys[key]
		if !found {
			return true, 0
		}
		b := el.Value.(*bucket)
		l.refill(b, now)
		if b.tokens >= 1 {
			return true, 0
		}
		return false, time.Duration(math.Ceil((1 - b.tokens) / l.rate * float64(time.Second)))
	}

	var b *bucket
	if el, found := l.keys[key]; found {
		b = el.Value.(*bucket)
		l.refill(b, now)
		l.lru.MoveToBack(el)
	} else {
		for l.lru.Len() >= l.maxKeys {
			// Under memory pressure the least recently used key loses its
			// state and starts afresh: a bounded weakening, not unbounded growth.
			l.remove(l.lru.Front())
		}
		b = &bucket{key: key, tokens: l.burst, last: now}
		l.keys[key] = l.lru.PushBack(b)
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) / l.rate * float64(time.Second)))
	return false, wait
}

// Len reports how many keys are tracked.
func (l *Memory) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

func (l *Memory) refill(b *bucket, now time.Time) {
	elapsed := now.Sub(b.last).Seconds()
	if elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
}

// evictIdle drops buckets that have refilled completely: forgetting them is
// indistinguishable from keeping them.
func (l *Memory) evictIdle(now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for el := l.lru.Front(); el != nil; el = l.lru.Front() {
		b := el.Value.(*bucket)
		if now.Sub(b.last) < full {
			return
		}
		l.remove(el)
	}
}

func (l *Memory) remove(el *list.Element) {
	b := l.lru.Remove(el).(*bucket)
	delete(l.keys, b.key)
}
