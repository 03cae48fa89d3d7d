package oidcprovider

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

func TestPendingRequestsKeepOnlyLivePendingOnes(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	c := newPendingRequests()
	c.put("a", store.AuthRequest{ID: "a", ExpiresAt: now.Add(time.Minute)}, now)
	c.put("done", store.AuthRequest{ID: "done", Done: true, ExpiresAt: now.Add(time.Minute)}, now)
	c.put("expired", store.AuthRequest{ID: "expired", ExpiresAt: now}, now)
	if _, ok := c.get("a", now); !ok {
		t.Fatal("pending request not cached")
	}
	for _, id := range []string{"done", "expired", "unknown"} {
		if _, ok := c.get(id, now); ok {
			t.Errorf("%s: cached, want not", id)
		}
	}
	if _, ok := c.get("a", now.Add(time.Minute)); ok {
		t.Error("request served from the cache at its expiry")
	}
	c.put("b", store.AuthRequest{ID: "b", ExpiresAt: now.Add(time.Minute)}, now)
	c.forget("b")
	if _, ok := c.get("b", now); ok {
		t.Error("forgotten request still cached")
	}
}

func TestPendingRequestsAreBounded(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	c := newPendingRequests()
	n := maxPendingRequests + 500
	for i := range n {
		c.put(fmt.Sprint(i), store.AuthRequest{ID: fmt.Sprint(i), ExpiresAt: now.Add(10 * time.Minute)}, now)
	}
	if got := c.len(); got > maxPendingRequests {
		t.Fatalf("%d entries, bound %d", got, maxPendingRequests)
	}
	if _, ok := c.get("0", now); ok {
		t.Error("oldest entry kept past the bound")
	}
	if _, ok := c.get(fmt.Sprint(n-1), now); !ok {
		t.Error("newest entry evicted")
	}
	// Expired entries go first, whatever the bound.
	later := now.Add(11 * time.Minute)
	c.put("new", store.AuthRequest{ID: "new", ExpiresAt: later.Add(time.Minute)}, later)
	if got := c.len(); got != 1 {
		t.Errorf("%d entries after everything else expired, want 1", got)
	}
	if len(c.order)-c.head != 1 {
		t.Errorf("order queue holds %d live ids, want 1", len(c.order)-c.head)
	}
}

// TestPendingCopyOnAnotherReplica: replica 1 created (and so caches) the
// request; it is completed, or denied, on replica 2. Replica 1's copy must
// not let it complete again, and its login page must learn the truth.
func TestPendingCopyOnAnotherReplica(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			e1, e2 := twoReplicas(t, kind)
			_, challenge := pkce()

			id, _ := e1.authorize(ncAuthorize(challenge))
			if _, err := e2.p.CompleteLogin(t.Context(), id, alice, time.Now()); err != nil {
				t.Fatal(err)
			}
			if _, err := e1.p.CompleteLogin(t.Context(), id, alice, time.Now()); !errors.Is(err, store.ErrAuthRequestDone) {
				t.Errorf("second completion on the replica holding a pending copy: %v, want ErrAuthRequestDone", err)
			}
			if info, err := e1.p.AuthRequest(t.Context(), id); err != nil || !info.Done {
				t.Errorf("login page after the stale completion attempt: %+v, %v; want done", info, err)
			}

			id2, _ := e1.authorize(ncAuthorize(challenge))
			if _, err := e2.p.DenyLogin(t.Context(), id2, "refused"); err != nil {
				t.Fatal(err)
			}
			if _, err := e1.p.CompleteLogin(t.Context(), id2, alice, time.Now()); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("completion of a request denied elsewhere: %v, want ErrNotFound", err)
			}
			if _, err := e1.p.AuthRequest(t.Context(), id2); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("login page of a request denied elsewhere: %v, want ErrNotFound", err)
			}
		})
	}
}

// TestCallbackReadsTheRequestThroughItsCode: the callback of a completed
// login gives its code (again, while unused), and once the code is
// exchanged a replayed callback gives nothing, even on another replica.
func TestCallbackReadsTheRequestThroughItsCode(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			e1, e2 := twoReplicas(t, kind)
			verifier, challenge := pkce()
			id, _ := e1.authorize(ncAuthorize(challenge))
			direct, err := e1.p.CompleteLogin(t.Context(), id, alice, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			next := e1.p.callbackURL(id) // what a form_post login is sent to
			callback := func(base string) *http.Response {
				u, _ := url.Parse(next)
				resp, err := noRedirect.Get(base + u.RequestURI())
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp
			}
			codeOf := func(resp *http.Response) string {
				loc, _ := url.Parse(resp.Header.Get("Location"))
				if loc == nil {
					return ""
				}
				return loc.Query().Get("code")
			}
			first := codeOf(callback(e1.issuer))
			if first == "" {
				t.Fatal("callback gave no code")
			}
			if u, _ := url.Parse(direct); u.Query().Get("code") != first {
				t.Errorf("the login's redirect carries code %q, the callback %q", u.Query().Get("code"), first)
			}
			if again := codeOf(callback(e2.srv.URL)); again != first {
				t.Errorf("callback again before the exchange (other replica) gave %q, want the same code", again)
			}
			if status, body := e1.token(codeForm(first, verifier), &creds{id: "nc", secret: ncSecret}); status != 200 {
				t.Fatalf("token: %d %v", status, body)
			}
			for name, base := range map[string]string{"same replica": e1.issuer, "other replica": e2.srv.URL} {
				if resp := callback(base); codeOf(resp) != "" {
					t.Errorf("%s: callback after the exchange gave a code (%d %s)", name, resp.StatusCode, resp.Header.Get("Location"))
				}
			}
		})
	}
}

// Requests carrying the largest state, nonce and login hint the store
// accepts cannot make the cache hold more than its byte bound.
func TestPendingRequestsAreBoundedInBytes(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	c := newPendingRequests()
	big := strings.Repeat("x", 4096)
	for i := range 10000 {
		c.put(fmt.Sprint(i), store.AuthRequest{ID: fmt.Sprint(i), State: big, Nonce: big, LoginHint: big, ExpiresAt: now.Add(10 * time.Minute)}, now)
	}
	if c.bytes > maxPendingBytes {
		t.Fatalf("cache holds %d bytes, bound %d", c.bytes, maxPendingBytes)
	}
	total := 0
	for k, e := range c.m {
		total += sizeOf(e.ar) + len(k)
	}
	if total != c.bytes {
		t.Errorf("byte count %d, entries add up to %d", c.bytes, total)
	}
	if _, ok := c.get("9999", now); !ok {
		t.Error("newest entry evicted")
	}
	c.forget("9999")
	if total-sizeOf(store.AuthRequest{ID: "9999", State: big, Nonce: big, LoginHint: big})-len("9999") != c.bytes {
		t.Errorf("forget did not release the entry's bytes")
	}
}
