package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/metrics"
)

// A 500 tells the client "see the broker log": the log must then say why.
// 4xx causes stay out (they are the client's, and noisy).
func TestAccessLogNamesCauseOfServerErrors(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := Observe(log, metrics.New(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			apierror.Write(w, apierror.Wrap(errors.New("client-side-detail"), 400, "invalid", "bad"))
			return
		}
		apierror.Write(w, errors.New("store: relation mappings does not exist"))
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, p := range []string{"/boom", "/bad"} {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	out := logs.String()
	if !strings.Contains(out, "relation mappings does not exist") || !strings.Contains(out, `"error_code":"internal_error"`) {
		t.Fatalf("the 500's cause is not in the log:\n%s", out)
	}
	if strings.Contains(out, "client-side-detail") {
		t.Fatalf("a 4xx cause was logged:\n%s", out)
	}
}

// Behind a trusted proxy, the failed-credential limit must key on the entry
// the proxy appended, not on what the client wrote first: otherwise a fresh
// fake X-Forwarded-For per request would never be limited.
func TestAdminAuthLimitIgnoresClientWrittenForwardedFor(t *testing.T) {
	cfg := config.Default()
	cfg.Login.TrustProxyHeaders = true
	cfg.Admin.Tokens = []config.AdminToken{config.HashAdminToken(config.AdminToken{Name: "t", Token: "a-valid-admin-token-123"})}
	h := NewAdminAuth(cfg).Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	limited := false
	for i := 0; i < 60 && !limited; i++ {
		req := httptest.NewRequest("GET", "/api/provision/mappings", nil)
		req.Header.Set("Authorization", "Bearer wrong")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.0.%d.%d, 203.0.113.7", i/250, i%250))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		limited = rec.Code == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatal("rotating the client-written X-Forwarded-For entry escaped the failed-credential limit")
	}
}
