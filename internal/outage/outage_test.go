package outage

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

type counter struct{ n atomic.Uint64 }

func (c *counter) UnavailableEvents() uint64 { return c.n.Load() }

// handler answers like op does; fail says whether the store failed meanwhile.
func serve(t *testing.T, path string, fail bool, h http.HandlerFunc) *httptest.ResponseRecorder {
	t.Helper()
	c := &counter{}
	mw := Middleware(Config{Store: c, OAuthJSON: []string{"/token", "/introspect"}}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail {
			c.n.Add(1)
		}
		h(w, r)
	}))
	rec := httptest.NewRecorder()
	mw.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func TestOutageAnswers(t *testing.T) {
	badRequest := func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "unable to retrieve client by id: store unavailable: dial tcp", http.StatusBadRequest)
	}
	jsonError := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":"server_error","error_description":"store unavailable"}`))
	}
	redirect := func(to string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) }
	}
	inactive := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"active":false}`))
	}

	t.Run("page", func(t *testing.T) {
		rec := serve(t, "/authorize", true, badRequest)
		if rec.Code != 503 || rec.Header().Get("Retry-After") != "2" || !strings.Contains(rec.Body.String(), "Temporarily unavailable") ||
			strings.Contains(rec.Body.String(), "dial tcp") {
			t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
		}
	})
	t.Run("oauth json", func(t *testing.T) {
		rec := serve(t, "/token", true, jsonError)
		var b map[string]string
		_ = json.Unmarshal(rec.Body.Bytes(), &b)
		if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || b["error"] != "temporarily_unavailable" {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})
	t.Run("api json", func(t *testing.T) {
		rec := serve(t, "/api/provision/upsert", true, jsonError)
		var b struct{ Error struct{ Code string } }
		_ = json.Unmarshal(rec.Body.Bytes(), &b)
		if rec.Code != 503 || b.Error.Code != "unavailable" {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})
	t.Run("error redirect", func(t *testing.T) {
		rec := serve(t, "/authorize/callback", true, redirect("https://rp.example/cb?error=server_error&state=s1"))
		loc, _ := url.Parse(rec.Header().Get("Location"))
		if rec.Code != 302 || loc.Query().Get("error") != "temporarily_unavailable" || loc.Query().Get("state") != "s1" || loc.Host != "rp.example" {
			t.Fatalf("%d %s", rec.Code, rec.Header().Get("Location"))
		}
	})
	t.Run("user's access_denied stays", func(t *testing.T) {
		rec := serve(t, "/authorize/callback", true, redirect("https://rp.example/cb?error=access_denied&state=s1"))
		if loc, _ := url.Parse(rec.Header().Get("Location")); loc.Query().Get("error") != "access_denied" {
			t.Fatal(rec.Header().Get("Location"))
		}
	})
	t.Run("introspection that could not look up", func(t *testing.T) {
		if rec := serve(t, "/introspect", true, inactive); rec.Code != 503 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		if rec := serve(t, "/introspect", false, inactive); rec.Code != 200 || rec.Body.String() != `{"active":false}` {
			t.Fatalf("without an outage: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("no outage: untouched", func(t *testing.T) {
		rec := serve(t, "/authorize", false, badRequest)
		if rec.Code != 400 || rec.Header().Get("Retry-After") != "" {
			t.Fatalf("%d %v", rec.Code, rec.Header())
		}
		rec = serve(t, "/authorize/callback", false, redirect("https://rp.example/cb?error=server_error"))
		if loc, _ := url.Parse(rec.Header().Get("Location")); loc.Query().Get("error") != "server_error" {
			t.Fatal(rec.Header().Get("Location"))
		}
	})
	t.Run("success during an outage: untouched", func(t *testing.T) {
		rec := serve(t, "/token", true, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("{}")) })
		if rec.Code != 200 || rec.Body.String() != "{}" {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})
	t.Run("503 gets Retry-After", func(t *testing.T) {
		rec := serve(t, "/login/verify", false, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) })
		if rec.Header().Get("Retry-After") != "2" {
			t.Fatalf("%v", rec.Header())
		}
	})
}
