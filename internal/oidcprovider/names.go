package oidcprovider

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode"
)

const (
	nameLookupTimeout = 2 * time.Second
	maxNameCache      = 10000
)

// nameResolver looks up the primary registered Qortal name of an address
// on a node. It is a cache that may be stale: names are display only.
type nameResolver struct {
	node   *qortalnode.Client // the one client of the node (internal/qortalnode)
	ttl    time.Duration
	now    func() time.Time
	logger *slog.Logger

	mu    sync.Mutex
	cache map[string]nameEntry
}

type nameEntry struct {
	name    string
	expires time.Time
}

func newNameResolver(base string, client *http.Client, ttl time.Duration, now func() time.Time, logger *slog.Logger) *nameResolver {
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	node, err := qortalnode.New(base, "", client)
	if err != nil {
		logger.Warn("qortal names disabled", "err", err)
	}
	return &nameResolver{node: node, ttl: ttl, now: now, logger: logger, cache: map[string]nameEntry{}}
}

// lookup returns the name or "" (none, or the node failed: login must not
// depend on the node being up).
func (r *nameResolver) lookup(ctx context.Context, address string) string {
	now := r.now()
	r.mu.Lock()
	e, ok := r.cache[address]
	r.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.name
	}
	name, err := r.fetch(ctx, address)
	if err != nil {
		r.logger.WarnContext(ctx, "qortal name lookup failed", "address", address, "error", err)
		// Keep the stale value, if any, and do not ask again for a minute:
		// a down node must not add a timeout to every token request.
		r.store(address, e.name, now.Add(min(r.ttl, time.Minute)))
		return e.name
	}
	r.store(address, name, now.Add(r.ttl))
	return name
}

func (r *nameResolver) store(address, name string, expires time.Time) {
	r.mu.Lock()
	if len(r.cache) >= maxNameCache {
		r.cache = map[string]nameEntry{}
	}
	r.cache[address] = nameEntry{name: name, expires: expires}
	r.mu.Unlock()
}

func (r *nameResolver) fetch(ctx context.Context, address string) (string, error) {
	if r.node == nil {
		return "", fmt.Errorf("no qortal node client")
	}
	ctx, cancel := context.WithTimeout(ctx, nameLookupTimeout)
	defer cancel()
	name, err := r.node.PrimaryName(ctx, address)
	if err != nil {
		return "", err
	}
	if len(name) > 128 {
		return "", nil
	}
	return name, nil
}
