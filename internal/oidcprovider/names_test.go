package oidcprovider

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/clocktest"
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
