package oidcprovider

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/clocktest"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func TestNameResolver(t *testing.T) {
	var calls atomic.Int32
	node := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		switch r.URL.Path {
		case "/names/primary/Qnamed":
			_, _ = w.Write([]byte(`{"name":"Satoshi","owner":"Qnamed"}`))
		case "/names/primary/Qnone":
			_, _ = w.Write([]byte(`{"name":null,"owner":"Qnone"}`))
		case "/names/primary/Qsold":
			_, _ = w.Write([]byte(`{"name":"Old","owner":"Qsomeoneelse"}`))
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":102,"message":"invalid address"}`))
		}
	}))
	defer node.Close()
	c := clocktest.New(time.Now())
	r := newNameResolver(node.URL+"/", node.Client(), time.Minute, c.Now, slog.New(slog.DiscardHandler))
	ctx := t.Context()
	for addr, want := range map[string]string{"Qnamed": "Satoshi", "Qnone": "", "Qsold": "", "Qbad": ""} {
		if got := r.lookup(ctx, addr); got != want {
			t.Errorf("lookup(%s) = %q, want %q", addr, got, want)
		}
	}
	before := calls.Load()
	r.lookup(ctx, "Qnamed")
	r.lookup(ctx, "Qbad") // failures are cached too
	if calls.Load() != before {
		t.Errorf("cached lookups hit the node %d times", calls.Load()-before)
	}
	c.Advance(2 * time.Minute)
	if r.lookup(ctx, "Qnamed") != "Satoshi" || calls.Load() != before+1 {
		t.Error("expired entry not refreshed")
	}
	node.Close()
	c.Advance(2 * time.Minute)
	if got := r.lookup(ctx, "Qnamed"); got != "Satoshi" {
		t.Errorf("with the node down, lookup = %q, want the stale name", got)
	}
}

// The name claim: the registered Qortal name when a node is configured and
// the address has one, else the mapping's display name, else the address.
func TestNameClaimPrecedence(t *testing.T) {
	node := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/names/primary/Qnamed" {
			_, _ = w.Write([]byte(`{"name":"Satoshi","owner":"Qnamed"}`))
			return
		}
		_, _ = w.Write([]byte(`{"name":null}`))
	}))
	defer node.Close()
	withNode := &Provider{names: newNameResolver(node.URL, node.Client(), time.Minute, time.Now, slog.New(slog.DiscardHandler))}
	without := &Provider{}
	ctx := t.Context()
	cases := []struct {
		p    *Provider
		m    store.Mapping
		want string
	}{
		{withNode, store.Mapping{QortalAddress: "Qnamed", DisplayName: "Alice"}, "Satoshi"},
		{withNode, store.Mapping{QortalAddress: "Qnone", DisplayName: "Bob"}, "Bob"},
		{withNode, store.Mapping{QortalAddress: "Qnone"}, "Qnone"},
		{without, store.Mapping{QortalAddress: "Qnamed", DisplayName: "Alice"}, "Alice"},
		{without, store.Mapping{QortalAddress: "Qnamed"}, "Qnamed"},
	}
	for _, c := range cases {
		if got := c.p.displayName(ctx, c.m); got != c.want {
			t.Errorf("name for %+v (node: %v) = %q, want %q", c.m, c.p.names != nil, got, c.want)
		}
	}
}
