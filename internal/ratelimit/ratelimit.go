// Package ratelimit is a token-bucket limiter keyed by string (an IP, an
// address). State lives in memory in one process: with N replicas behind a
// load balancer a key may get up to N times the configured rate. That is
// accepted for login abuse control, where the point is to make guessing and
// flooding slow, not to meter exactly.
package ratelimit

import (
	"container/list"
	"math"
	"sync"
	"time"
)

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

// Limiter is safe for concurrent use.
type Limiter struct {
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

// New returns a limiter for cfg.
func New(cfg Config) *Limiter {
	l := &Limiter{
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
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	if l == nil || l.rate <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evictIdle(now)

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
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

func (l *Limiter) refill(b *bucket, now time.Time) {
	elapsed := now.Sub(b.last).Seconds()
	if elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
}

// evictIdle drops buckets that have refilled completely: forgetting them is
// indistinguishable from keeping them.
func (l *Limiter) evictIdle(now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for el := l.lru.Front(); el != nil; el = l.lru.Front() {
		b := el.Value.(*bucket)
		if now.Sub(b.last) < full {
			return
		}
		l.remove(el)
	}
}

func (l *Limiter) remove(el *list.Element) {
	b := l.lru.Remove(el).(*bucket)
	delete(l.keys, b.key)
}
