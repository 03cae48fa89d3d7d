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

// The cache is bounded by count and by bytes (a request's state, nonce and
// login hint may be 4 KiB each): a flood of /authorize only evicts
// entries, which then cost one store read again.
const (
	maxPendingRequests = 20000
	maxPendingBytes    = 16 << 20
)

type pendingRequests struct {
	mu    sync.Mutex
	m     map[string]store.AuthRequest
	order []string // insertion order = expiry order (one TTL for all)
	head  int
	bytes int // sizeOf of the entries in m
}

// sizeOf approximates what an entry keeps alive.
func sizeOf(ar store.AuthRequest) int {
	n := 256 + len(ar.ID) + len(ar.ClientID) + len(ar.RedirectURI) + len(ar.State) + len(ar.Nonce) +
		len(ar.ResponseType) + len(ar.ResponseMode) + len(ar.CodeChallenge) + len(ar.CodeChallengeMethod) + len(ar.LoginHint)
	for _, v := range ar.Scopes {
		n += 16 + len(v)
	}
	for _, v := range ar.Prompt {
		n += 16 + len(v)
	}
	return n
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
		c.bytes -= sizeOf(ar)
		delete(c.m, id)
		return store.AuthRequest{}, false
	}
	return ar, true
}

// put caches ar if it is pending, dropping expired entries (and the oldest
// ones past the bound) first.
func (c *pendingRequests) put(ar store.AuthRequest, now time.Time) {
	size := sizeOf(ar)
	if ar.Done || !now.Before(ar.ExpiresAt) || size > maxPendingBytes/16 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[ar.ID]; ok {
		c.bytes -= sizeOf(old)
		delete(c.m, ar.ID)
	}
	for c.head < len(c.order) {
		id := c.order[c.head]
		e, ok := c.m[id]
		if ok && now.Before(e.ExpiresAt) && len(c.m) < maxPendingRequests && c.bytes+size <= maxPendingBytes {
			break
		}
		if ok {
			c.bytes -= sizeOf(e)
			delete(c.m, id)
		}
		c.order[c.head] = ""
		c.head++
	}
	if c.head > len(c.order)/2 && c.head > 1024 {
		c.order = append(c.order[:0], c.order[c.head:]...)
		c.head = 0
	}
	c.order = append(c.order, ar.ID)
	c.m[ar.ID] = ar
	c.bytes += size
}

// forget drops id: it was completed or removed, so the next read must see
// the store.
func (c *pendingRequests) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ar, ok := c.m[id]; ok {
		c.bytes -= sizeOf(ar)
		delete(c.m, id)
	}
}

func (c *pendingRequests) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
