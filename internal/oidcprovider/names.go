package oidcprovider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

const (
	nameLookupTimeout = 2 * time.Second
	maxNameCache      = 10000
)

// nameResolver looks up the primary registered Qortal name of an address
// on a node. It is a cache that may be stale: names are display only.
type nameResolver struct {
	base   string
	client *http.Client
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
	return &nameResolver{base: strings.TrimSuffix(base, "/"), client: client, ttl: ttl, now: now, logger: logger, cache: map[string]nameEntry{}}
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
	ctx, cancel := context.WithTimeout(ctx, nameLookupTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/names/primary/"+url.PathEscape(address), nil)
	if err != nil {
		return "", fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("get primary name: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("read primary name: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("primary name: HTTP %d", resp.StatusCode)
	}
	var out struct {
		Name  *string `json:"name"`
		Owner string  `json:"owner"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return "", fmt.Errorf("decode primary name: %w", err)
	}
	if out.Name == nil || (out.Owner != "" && out.Owner != address) {
		return "", nil
	}
	name := strings.TrimSpace(*out.Name)
	if len(name) > 128 {
		return "", nil
	}
	return name, nil
}
