package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// Anonymous callers learn nothing about which admin endpoints exist: any
// path and method under /api/ answers 401 before routing. Authenticated
// callers get precise 404 and 405 answers, also on the provisioning routes.
func TestAPISurfaceAuthBeforeRouting(t *testing.T) {
	t.Parallel()
	b := newBroker(t, storetest.Open(t, storetest.SQLite), newFakeNextcloud(t))
	noAuth := []string{"Authorization", ""}
	for _, c := range []struct{ method, path string }{
		{http.MethodDelete, "/api/provision/upsert"},
		{http.MethodPatch, "/api/provision/upsert"},
		{http.MethodGet, "/api/provision/no-such-thing"},
		{http.MethodGet, "/api/no-such-thing"},
		{http.MethodPatch, "/api/invites"},
		{http.MethodPut, "/api/audit"},
		{http.MethodGet, "/api/"},
	} {
		if r := b.do(c.method, c.path, nil, noAuth...); r.Status != http.StatusUnauthorized || r.errCode() != "unauthorized" {
			t.Errorf("anonymous %s %s: %d %s, want 401 unauthorized", c.method, c.path, r.Status, r.Raw)
		}
	}
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodPatch, "/api/provision/upsert", 405, "method_not_allowed"},
		{http.MethodGet, "/api/provision/upsert", 405, "method_not_allowed"},
		{http.MethodPost, "/api/provision/mappings", 405, "method_not_allowed"},
		{http.MethodPatch, "/api/invites", 405, "method_not_allowed"},
		{http.MethodGet, "/api/provision/no-such-thing", 404, "not_found"},
		{http.MethodGet, "/api/provision/mapping/Q%2Fabc", 404, "not_found"},
	} {
		if r := b.do(c.method, c.path, nil); r.Status != c.status || r.errCode() != c.code {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, r.Status, r.Raw, c.status, c.code)
		}
	}
	// A 405 names the methods the endpoint has (RFC 9110 15.5.6).
	for path, want := range map[string]string{
		"/api/provision/upsert":   "POST",
		"/api/policy":             "GET, PUT, DELETE",
		"/api/provision/mappings": "GET",
	} {
		if r := b.do(http.MethodPatch, path, nil); r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != want {
			t.Errorf("PATCH %s: %d Allow %q, want 405 Allow %q", path, r.Status, r.Header.Get("Allow"), want)
		}
	}
}

// Bodies that are not exactly one JSON object are refused with a message
// that does not dump Go types.
func TestAPIRejectsMalformedBodies(t *testing.T) {
	t.Parallel()
	b := newBroker(t, storetest.Open(t, storetest.SQLite), newFakeNextcloud(t))
	for _, body := range []string{`{"qortalAddress":"x"}}`, `{"qortalAddress":"x"} {}`, `[]`, `"s"`} {
		r := b.do(http.MethodPost, "/api/provision/upsert", body)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", body, r.Status, r.Raw)
		}
		if code := r.errCode(); code != "invalid_json" && code != "invalid_request" {
			t.Errorf("%s: code %q", body, code)
		}
		for _, leak := range []string{"struct", "json:"} {
			if strings.Contains(r.Raw, leak) {
				t.Errorf("%s: message shows Go internals: %s", body, r.Raw)
			}
		}
	}
}

// /api and /login decode JSON with one rule (apierror.DecodeJSON): the same
// body gets the same status and code on both.
func TestOneJSONDecodingRuleOnAPIAndLogin(t *testing.T) {
	t.Parallel()
	b := newBroker(t, storetest.Open(t, storetest.SQLite), newFakeNextcloud(t))
	huge := `{"qortalAddress":"` + strings.Repeat("Q", 5<<20) + `"}`
	for _, path := range []string{"/api/provision/upsert", "/api/policy", "/login/challenge", "/login/verify"} {
		method := http.MethodPost
		if path == "/api/policy" {
			method = http.MethodPut
		}
		for _, c := range []struct {
			name, contentType, body string
			status                  int
			code                    string
		}{
			{"text/plain", "text/plain", `{}`, 415, "unsupported_media_type"},
			{"no content type", "", `{}`, 415, "unsupported_media_type"},
			{"5 MB", "application/json", huge, 413, "body_too_large"},
			{"bad json", "application/json", `{nope`, 400, "invalid_json"},
			{"unknown field", "application/json", `{"noSuchField":1}`, 400, "unknown_field"},
		} {
			r := b.do(method, path, c.body, "Content-Type", c.contentType)
			if r.Status != c.status || r.errCode() != c.code {
				t.Errorf("%s %s (%s): %d %.200s, want %d %s", method, path, c.name, r.Status, r.Raw, c.status, c.code)
			}
		}
	}
}
