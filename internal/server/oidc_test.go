package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// Behind a trusted proxy only the entry the proxy appended identifies the
// client: anything before it is whatever the client sent, and must not let
// it pick a fresh rate-limit key per request.
func TestBrowserLimitIgnoresClientWrittenForwardedFor(t *testing.T) {
	cfg := config.Default()
	cfg.Login.TrustProxyHeaders = true
	s := &Server{cfg: cfg}
	h := s.limitPerIP(3)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	limited := false
	for i := 0; i < 10; i++ {
		r := httptest.NewRequest(http.MethodGet, "/authorize", nil)
		r.RemoteAddr = "10.0.0.1:4000" // the proxy
		r.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d, 198.51.100.9", i+1))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("10 requests from 198.51.100.9 with spoofed leading X-Forwarded-For entries were never limited (3/min)")
	}
}

// The OAuth conformance wrappers hold through the whole server (router,
// outage mapping, observation), not only in the provider's own handler.
func TestOAuthConformanceThroughTheServer(t *testing.T) {
	b := newBroker(t, storetest.Open(t, storetest.SQLite), newFakeNextcloud(t), func(c *config.Config) {
		c.OIDC.Clients = []config.Client{{ID: "nc", Secret: strings.Repeat("s", 32), RedirectURIs: []string{"https://cloud.example/cb"}}}
	})
	if r := b.do("GET", "/token?client_id=nc", nil, "Authorization", ""); r.Status != http.StatusMethodNotAllowed ||
		r.Header.Get("Allow") != "POST" || r.Body["error"] != "invalid_request" || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("GET /token: %d %v %s", r.Status, r.Header, r.Raw)
	}
	r := b.do("POST", "/token", "grant_type=refresh_token&refresh_token=x", "Authorization", "Basic Z2hvc3Q6eA==",
		"Content-Type", "application/x-www-form-urlencoded", "Origin", "https://evil.example")
	if r.Status != http.StatusUnauthorized || r.Body["error"] != "invalid_client" || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic ") ||
		r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("unknown client: %d %v %s", r.Status, r.Header, r.Raw)
	}
	if r := b.do("GET", "/userinfo?access_token=x", nil, "Authorization", ""); r.Status != http.StatusBadRequest ||
		!strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_request"`) {
		t.Errorf("userinfo with a query token: %d %v", r.Status, r.Header)
	}
	if r := b.do("GET", "/jwks", nil, "Origin", "https://evil.example"); r.Status != http.StatusOK ||
		r.Header.Get("Access-Control-Allow-Origin") != "*" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("jwks CORS: %d %v", r.Status, r.Header)
	}
	d := b.do("GET", "/.well-known/openid-configuration", nil)
	if d.Body["authorization_response_iss_parameter_supported"] != true {
		t.Errorf("discovery lacks the RFC 9207 flag: %s", d.Raw)
	}
	q := "/authorize?client_id=nc&redirect_uri=" + url.QueryEscape("https://cloud.example/cb") + "&response_type=token&state=s"
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(b.http.URL + q)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || !strings.Contains(loc, "error=unsupported_response_type") ||
		!strings.Contains(loc, "iss=") {
		t.Errorf("unsupported response type: %d %q", res.StatusCode, loc)
	}
}
