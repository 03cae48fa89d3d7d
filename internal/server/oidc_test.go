package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
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
