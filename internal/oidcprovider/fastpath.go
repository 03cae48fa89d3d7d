package oidcprovider

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// What keeps a login to a few store writes (README "Performance"): the code
// is known when the login completes, so it is stored in that transaction
// rather than by a write of its own at the callback; clients are read from
// memory; and the token endpoint's writes happen in one transaction.

// clientCacheTTL bounds how long a replica uses a client it read: a client
// changed or removed elsewhere (another replica, `qortal-oidc clients`)
// takes effect on every replica within this time.
const clientCacheTTL = 10 * time.Second

type cachedClient struct {
	c       store.OIDCClient
	fetched time.Time
}

// clientCache holds clients found in the store (never unknown ids, which
// anyone can send, so it holds at most the registered clients).
type clientCache struct {
	mu  sync.RWMutex
	m   map[string]cachedClient
	now func() time.Time
}

func newClientCache(now func() time.Time) *clientCache {
	return &clientCache{m: map[string]cachedClient{}, now: now}
}

func (cc *clientCache) get(ctx context.Context, s store.Store, id string) (store.OIDCClient, error) {
	now := cc.now()
	cc.mu.RLock()
	e, ok := cc.m[id]
	cc.mu.RUnlock()
	if ok && now.Sub(e.fetched) < clientCacheTTL && !now.Before(e.fetched) {
		return e.c, nil
	}
	c, err := s.GetClient(ctx, id)
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if err != nil {
		delete(cc.m, id)
		return c, err
	}
	cc.m[id] = cachedClient{c: c, fetched: now}
	return c, nil
}

// codeCrypto is op's Crypto with one change: the authorization code of an
// auth request is a MAC of its id, so the provider knows the code (and
// stores its hash) when the login completes, before op's callback asks
// for it. Everything else (opaque access tokens) is op's own encryption.
type codeCrypto struct {
	op.Crypto
	key []byte
}

// codePrefix marks codes made by codeFor; auth request ids start with ar_.
const codePrefix = "c1_"

func (c codeCrypto) Encrypt(s string) (string, error) {
	if strings.HasPrefix(s, "ar_") && !strings.Contains(s, ":") {
		return c.codeFor(s), nil
	}
	return c.Crypto.Encrypt(s)
}

// codeFor is the one code of auth request id: 256 bits that only holders of
// the key encryption key can compute.
func (c codeCrypto) codeFor(id string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("authorization code\x00" + id))
	return codePrefix + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// codeHash is how the store keys the code of auth request id.
func (c codeCrypto) codeHash(id string) string { return hashToken(c.codeFor(id)) }

// scope is per token request: what the request already did, so op's later
// calls into storage do not repeat it.
type scope struct {
	exchanged string // auth request whose code this request exchanged (op then asks to delete it)
	// mappingOf's mapping as the exchange's transaction read it (nil:
	// none): the ID token's claims come from it (linkedMapping).
	mappingOf string
	mapping   *store.Mapping
}

type scopeKey struct{}

// withScope gives each request its own scope.
func withScope(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), scopeKey{}, &scope{})))
	})
}

func scopeOf(ctx context.Context) *scope {
	s, _ := ctx.Value(scopeKey{}).(*scope)
	return s
}
