package oidcprovider

import (
	"sync"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// A login reads its auth request at the login page, when the challenge is
// issued and when the proof is verified: three store reads of a row that
// cannot change while it is pending (its parameters are fixed at
// /authorize; only completion or removal changes it, and both go through
// the store's own checks). pendingRequests keeps the pending requests this
// replica created or read, so those reads are memory reads.
//
// Why a stale entry is harmless: completion is an UPDATE ... WHERE NOT done
// in the store, so a request completed or removed on another replica still
// fails there (ErrAuthRequestDone / ErrNotFound), whatever the cache said;
// expiry is checked against the entry's own ExpiresAt. What needs the
// request's completed state (op's callback, the code exchange, ending a
// request with an error) reads the store.

// maxPendingRequests bounds the cache (about 1 KiB an entry): a flood of
// /authorize only evicts entries, which then cost one store read again.
const maxPendingRequests = 20000

type pendingRequests struct {
	mu    sync.Mutex
	m     map[string]store.AuthRequest
	order []string // insertion order = expiry order (one TTL for all)
	head  int
}

func newPendingRequests() *pendingRequests {
	return &pendingRequests{m: map[string]store.AuthRequest{}}
}

// get returns a cached pending request that has not expired at now.
func (c *pendingRequests) get(id string, now time.Time) (store.AuthRequest, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ar, ok := c.m[id]
	if !ok {
		return ar, false
	}
	if !now.Before(ar.ExpiresAt) {
		delete(c.m, id)
		return store.AuthRequest{}, false
	}
	return ar, true
}

// put caches ar if it is pending, dropping expired entries (and the oldest
// ones past the bound) first.
func (c *pendingRequests) put(ar store.AuthRequest, now time.Time) {
	if ar.Done || !now.Before(ar.ExpiresAt) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.head < len(c.order) {
		id := c.order[c.head]
		e, ok := c.m[id]
		if ok && now.Before(e.ExpiresAt) && len(c.m) < maxPendingRequests {
			break
		}
		delete(c.m, id)
		c.order[c.head] = ""
		c.head++
	}
	if c.head > len(c.order)/2 && c.head > 1024 {
		c.order = append(c.order[:0], c.order[c.head:]...)
		c.head = 0
	}
	if _, ok := c.m[ar.ID]; !ok {
		c.order = append(c.order, ar.ID)
	}
	c.m[ar.ID] = ar
}

// forget drops id: it was completed or removed, so the next read must see
// the store.
func (c *pendingRequests) forget(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

func (c *pendingRequests) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
