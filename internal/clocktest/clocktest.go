// Package clocktest is a settable clock for tests that pass a Now func to
// the code under test. It is not a _test.go file because the tests of many
// packages import it.
package clocktest

import (
	"sync"
	"time"
)

// Clock is a time source that moves only when told to; it is safe for
// concurrent use, since servers under test read it from their goroutines.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock standing at t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
