package console

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
)

func sessionCookieOf(t *testing.T, b *browser) *http.Cookie {
	t.Helper()
	for _, c := range b.c.Jar.Cookies(mustURL(t, b.e.srv.URL+"/admin/")) {
		if c.Name == sessionCookie {
			return c
		}
	}
	t.Fatal("no session cookie in the jar")
	return nil
}

func TestSessionExpires(t *testing.T) {
	e := newEnv(t)
	alice := e.accts["alice"]

	t.Run("absolute", func(t *testing.T) {
		b := e.browser()
		b.signIn(alice)
		// Stay active (every 20 minutes) past the session's lifetime.
		for elapsed := time.Duration(0); elapsed < e.cfg.Admin.SessionTTL-20*time.Minute; elapsed += 20 * time.Minute {
			e.clk.Advance(20 * time.Minute)
			if p := b.get("/admin/audit"); p.status != http.StatusOK {
				t.Fatalf("active session refused after %s: %d", elapsed, p.status)
			}
		}
		e.clk.Advance(21 * time.Minute)
		p := b.get("/admin/audit")
		if p.status != http.StatusSeeOther || p.location != "/admin/signin?why=expired" {
			t.Fatalf("after the session TTL = %d to %q, want the sign-in page saying it expired", p.status, p.location)
		}
		if s := b.get(p.location); !strings.Contains(s.body, "Your session expired") {
			t.Errorf("sign-in page does not say why:\n%s", s.body)
		}
		if a := e.lastAudit(); a.Action != "admin.session_end" || !strings.Contains(a.Detail, "expired") {
			t.Errorf("audit = %+v, want admin.session_end (expired)", a)
		}
	})

	t.Run("idle", func(t *testing.T) {
		b := e.browser()
		b.signIn(alice)
		e.clk.Advance(DefaultIdleTimeout + time.Second)
		if p := b.get("/admin/"); p.status != http.StatusSeeOther || p.location != "/admin/signin?why=idle" {
			t.Fatalf("after idling = %d to %q", p.status, p.location)
		}
	})
}

// Sessions are rows in the shared store: another replica (another Handler
// on the same store) honours them, and one whose configuration no longer
// lists the address ends them.
func TestSessionAcrossReplicas(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.accts["alice"])
	c := sessionCookieOf(t, b)

	replica := func(admins []string) http.Handler {
		cfg := e.cfg
		cfg.Admin.Addresses = admins
		h, err := New(cfg, e.h.d)
		if err != nil {
			t.Fatal(err)
		}
		r := mux.NewRouter()
		h.Register(r)
		return r
	}
	get := func(h http.Handler) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, e.srv.URL+"/admin/mappings", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: c.Value})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := get(replica(e.cfg.Admin.Addresses)); rec.Code != http.StatusOK {
		t.Fatalf("other replica = %d, want the session honoured", rec.Code)
	}
	if rec := get(replica([]string{e.accts["bob"].Address})); rec.Code != http.StatusSeeOther ||
		rec.Header().Get("Location") != "/admin/signin?why=revoked" {
		t.Fatalf("replica without alice as admin = %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	if p := b.get("/admin/"); p.status != http.StatusSeeOther {
		t.Errorf("revoked session still works on the first replica: %d", p.status)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	dash := b.signIn(e.accts["alice"])
	form := func(csrf string) url.Values {
		v := url.Values{"mode": {"auto_provision"}, "guard": {"none"}}
		if csrf != "" {
			v.Set("csrf", csrf)
		}
		return v
	}
	other := e.browser()
	otherDash := other.signIn(e.accts["alice"]) // the same admin in another browser

	for name, tc := range map[string]struct {
		csrf    string
		headers map[string]string
	}{
		"missing token":              {csrf: ""},
		"wrong token":                {csrf: "AAAA" + csrfOf(t, dash)[4:]},
		"another session's token":    {csrf: csrfOf(t, otherDash)},
		"cross origin":               {csrf: csrfOf(t, dash), headers: map[string]string{"Origin": "https://evil.example"}},
		"null origin":                {csrf: csrfOf(t, dash), headers: map[string]string{"Origin": "null"}},
		"cross site fetch metadata":  {csrf: csrfOf(t, dash), headers: map[string]string{"Sec-Fetch-Site": "cross-site"}},
		"foreign referer, no origin": {csrf: csrfOf(t, dash), headers: map[string]string{"Origin": "", "Referer": "https://evil.example/admin/"}},
		"neither origin nor referer": {csrf: csrfOf(t, dash), headers: map[string]string{"Origin": ""}},
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/admin/policy", strings.NewReader(form(tc.csrf).Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", e.srv.URL)
			for k, v := range tc.headers {
				if v == "" {
					req.Header.Del(k)
				} else {
					req.Header.Set(k, v)
				}
			}
			resp, err := b.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST /admin/policy = %d, want 403", resp.StatusCode)
			}
		})
	}
	if p, err := e.h.d.Policy.Current(t.Context()); err != nil || p.Source != "config" {
		t.Fatalf("a refused form changed the policy: %+v, %v", p, err)
	}
	// The same form with the right token and a same-origin Referer (no
	// Origin) goes through.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/admin/policy", strings.NewReader(form(csrfOf(t, dash)).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", e.srv.URL+"/admin/policy")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("valid form = %d, want 303", resp.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for _, p := range []page{b.get("/admin/signin"), b.signIn(e.accts["alice"])} {
		h := p.header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") ||
			!strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP = %q", csp)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("Cache-Control") != "no-store" || h.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("headers = %v", h)
		}
	}
}
