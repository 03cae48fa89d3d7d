package oidcprovider

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// Knowing an auth request id (whoever started the login does) must not be
// enough to collect the code once someone else proved their key for it.
func TestCallbackNeedsTheCompletersMAC(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	linkAlice(t, st)
	e := newEnv(t, st, nil)
	_, challenge := pkce()
	id, _ := e.authorize(ncAuthorize(challenge))
	if id == "" {
		t.Fatal("authorize did not reach the login page")
	}
	next, err := e.p.CompleteLogin(t.Context(), id, alice, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	other, _ := e.authorize(ncAuthorize(challenge))
	get := func(q url.Values) *http.Response {
		t.Helper()
		resp, err := noRedirect.Get(e.issuer + "/authorize/callback?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// The login sends the browser straight to the RP; the callback (kept
	// for form_post) must still refuse whoever lacks the MAC.
	if !strings.HasPrefix(next, ncRedirect+"?") {
		t.Fatalf("CompleteLogin sent the browser to %q, not the RP", next)
	}
	u, _ := url.Parse(e.p.callbackURL(id))
	good := u.Query().Get(callbackParam)
	for name, q := range map[string]url.Values{
		"id only":             {"id": {id}},
		"wrong mac":           {"id": {id}, callbackParam: {"AAAA"}},
		"another login's mac": {"id": {id}, callbackParam: {e.p.callbackMAC(other)}},
	} {
		if r := get(q); r.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: callback answered %d %q, want 400", name, r.StatusCode, r.Header.Get("Location"))
		}
	}
	r := get(url.Values{"id": {id}, callbackParam: {good}})
	loc, _ := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("callback with the MAC: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
}
