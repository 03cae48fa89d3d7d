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
// request's completed state (op's callback, ending a request with an
// error) reads the store; the code exchange of a login this replica
// completed uses the copy the completion returned (completedCodes).

// A login's code is exchanged seconds after its proof, and usually on the
// replica that completed it: completedCodes keeps the completed request
// (what the store returned from the completing UPDATE) under its code's
// hash until the code expires, so the token endpoint need not read it.
// Each entry is taken, not read: a second exchange of the code, here or on
// another replica, reads the store. Why the copy is safe: it is exactly
// the row the store holds for the code until the code is used, and using
// it is the exchange transaction's own check (UPDATE ... WHERE used_at IS
// NULL AND expires_at > now), which also revokes what a first exchange
// issued when the code comes back.

// Both caches are bounded by count and by bytes (a request's state, nonce and
// login hint may be 4 KiB each): a flood of /authorize only evicts
// entries, which then cost one store read again.
const (
	maxPendingRequests = 20000
	maxPendingBytes    = 16 << 20
)

// requestCache is a bounded map of auth requests with an expiry each. The
// pending requests (keyed by id) and the completed logins' requests (keyed
// by their code's hash, see completedCodes) are two of them.
type requestCache struct {
	mu    sync.Mutex
	m     map[string]cachedRequest
	order []string // insertion order = expiry order (one TTL for all)
	head  int
	bytes int // the size of the entries in m (their keys too: a sealed id is ~450 bytes)
}

type cachedRequest struct {
	ar      store.AuthRequest
	expires time.Time
	size    int // sizeOf(ar) + len(key)
}

// pendingRequests is the cache of pending requests, keyed by id.
type pendingRequests = requestCache

// sizeOf approximates what an entry keeps alive.
func sizeOf(ar store.AuthRequest) int {
	n := 256 + len(ar.ID) + len(ar.ClientID) + len(ar.RedirectURI) + len(ar.State) + len(ar.Nonce) +
		len(ar.ResponseType) + len(ar.ResponseMode) + len(ar.CodeChallenge) + len(ar.CodeChallengeMethod) + len(ar.LoginHint) +
		len(ar.Subject) + len(ar.QortalAddress) + len(ar.SessionID)
	for _, v := range ar.Scopes {
		n += 16 + len(v)
	}
	for _, v := range ar.Prompt {
		n += 16 + len(v)
	}
	for _, v := range ar.AMR {
		n += 16 + len(v)
	}
	return n
}

func newPendingRequests() *pendingRequests { return newRequestCache() }

func newRequestCache() *requestCache {
	return &requestCache{m: map[string]cachedRequest{}}
}

// get returns a cached request that has not expired at now.
func (c *requestCache) get(key string, now time.Time) (store.AuthRequest, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lookup(key, now, false)
}

// take is get that also drops the entry: only one caller gets it.
func (c *requestCache) take(key string, now time.Time) (store.AuthRequest, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lookup(key, now, true)
}

func (c *requestCache) lookup(key string, now time.Time, drop bool) (store.AuthRequest, bool) {
	e, ok := c.m[key]
	if !ok {
		return store.AuthRequest{}, false
	}
	live := now.Before(e.expires)
	if drop || !live {
		c.bytes -= e.size
		delete(c.m, key)
	}
	if !live {
		return store.AuthRequest{}, false
	}
	return e.ar, true
}

// put caches ar under id (its id, or its sealed id) if it is pending,
// until it expires.
func (c *requestCache) put(id string, ar store.AuthRequest, now time.Time) {
	if ar.Done {
		return
	}
	c.add(id, ar, ar.ExpiresAt, now)
}

// add caches ar under key until expires, dropping expired entries (and
// the oldest ones past the bound) first. Every entry of one cache must
// have the same lifetime: eviction goes by insertion order.
func (c *requestCache) add(key string, ar store.AuthRequest, expires, now time.Time) {
	size := sizeOf(ar) + len(key)
	if !now.Before(expires) || size > maxPendingBytes/16 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[key]; ok {
		c.bytes -= old.size
		delete(c.m, key)
	}
	for c.head < len(c.order) {
		k := c.order[c.head]
		e, ok := c.m[k]
		if ok && now.Before(e.expires) && len(c.m) < maxPendingRequests && c.bytes+size <= maxPendingBytes {
			break
		}
		if ok {
			c.bytes -= e.size
			delete(c.m, k)
		}
		c.order[c.head] = ""
		c.head++
	}
	if c.head > len(c.order)/2 && c.head > 1024 {
		c.order = append(c.order[:0], c.order[c.head:]...)
		c.head = 0
	}
	c.order = append(c.order, key)
	c.m[key] = cachedRequest{ar: ar, expires: expires, size: size}
	c.bytes += size
}

// forget drops key: it was completed or removed, so the next read must see
// the store.
func (c *requestCache) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok {
		c.bytes -= e.size
		delete(c.m, key)
	}
}

func (c *requestCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
