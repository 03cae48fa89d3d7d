package oidcprovider

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// httpRedirect is a confidential client's plain-http redirect URI, which
// op treated differently (a text page instead of an error redirect).
const httpRedirect = "http://cloud.internal/apps/user_oidc/code"

func withHTTPClient(c *config.Config) {
	c.OIDC.Clients = append(c.OIDC.Clients, config.Client{ID: "nchttp", Secret: ncSecret, RedirectURIs: []string{httpRedirect}})
}

// lockedBuffer collects log output from op (slog's default logger) and
// the provider.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// captureDefaultLog routes slog's default logger (op logs there) into a
// buffer for the rest of the test.
func captureDefaultLog(t *testing.T) *lockedBuffer {
	buf := &lockedBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return buf
}

// authorizeRaw sends an authorization request with a hand-written query
// (to repeat parameters) and returns the response.
func (e *env) authorizeRaw(rawQuery string) rawResponse {
	e.t.Helper()
	return e.send("GET", "/authorize?"+rawQuery, nil, nil, nil)
}

func redirectQuery(t *testing.T, r rawResponse, wantPrefix string) url.Values {
	t.Helper()
	loc := r.header.Get("Location")
	if r.status != http.StatusFound || !strings.HasPrefix(loc, wantPrefix) {
		t.Fatalf("want a redirect to %s, got %d %q %s", wantPrefix, r.status, loc, r.body)
	}
	u, _ := url.Parse(loc)
	return u.Query()
}

// Issue 7 item 15: iss in every authorization response and the discovery
// flag that tells clients to require it.
func TestAuthorizationResponsesCarryIss(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			st := storetest.Open(t, kind)
			linkAlice(t, st)
			e := newEnv(t, st, nil)
			d := e.send("GET", "/.well-known/openid-configuration", nil, nil, nil)
			if d.json["authorization_response_iss_parameter_supported"] != true || d.json["request_uri_parameter_supported"] != false {
				t.Errorf("discovery: iss flag %v, request_uri %v", d.json["authorization_response_iss_parameter_supported"], d.json["request_uri_parameter_supported"])
			}

			// Success.
			_, challenge := pkce()
			id, _ := e.authorize(ncAuthorize(challenge))
			next, err := e.p.CompleteLogin(t.Context(), id, alice, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			loc, _ := url.Parse(next)
			if q := loc.Query(); !strings.HasPrefix(next, ncRedirect+"?") || q.Get("code") == "" || q.Get("state") != "st4te" || q.Get("iss") != e.issuer {
				t.Errorf("success response %s lacks code, state or iss", loc)
			}
			// The callback (form_post, or a link from before) answers alike.
			resp, err := noRedirect.Get(e.p.callbackURL(id))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, _ = url.Parse(resp.Header.Get("Location"))
			if q := loc.Query(); q.Get("code") == "" || q.Get("state") != "st4te" || q.Get("iss") != e.issuer {
				t.Errorf("callback response %s lacks code, state or iss", loc)
			}
			if loc.String() != next {
				t.Errorf("the login's redirect %s differs from op's callback answer %s", next, loc)
			}

			// Errors raised inside op (a public client without PKCE), by the
			// broker's checks, by a denied login and by a failed silent login.
			spa := url.Values{"client_id": {"spa"}, "redirect_uri": {spaRedir}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"}}
			if q := redirectQuery(t, e.authorizeRaw(spa.Encode()), spaRedir); q.Get("error") != "invalid_request" || q.Get("iss") != e.issuer || q.Get("state") != "s" {
				t.Errorf("error raised in op: %v", q)
			}
			q := ncAuthorize(challenge)
			q.Set("response_type", "id_token")
			if q := redirectQuery(t, e.authorizeRaw(q.Encode()), ncRedirect); q.Get("error") != "unsupported_response_type" || q.Get("iss") != e.issuer {
				t.Errorf("broker check error: %v", q)
			}
			id, _ = e.authorize(ncAuthorize(challenge))
			to, err := e.p.DenyLogin(t.Context(), id, "no")
			if err != nil {
				t.Fatal(err)
			}
			if u, _ := url.Parse(to); u.Query().Get("error") != "access_denied" || u.Query().Get("iss") != e.issuer {
				t.Errorf("denied login: %s", to)
			}
			q = ncAuthorize(challenge)
			q.Set("prompt", "none")
			id, _ = e.authorize(q)
			if to, err = e.p.FailSilentLogin(t.Context(), id, "login required"); err != nil {
				t.Fatal(err)
			}
			if u, _ := url.Parse(to); u.Query().Get("error") != "login_required" || u.Query().Get("iss") != e.issuer {
				t.Errorf("failed silent login: %s", to)
			}
		})
	}
}

// Issue 7 item 16: repeated parameters, request_uri, unsupported
// response types and oversized state.
func TestAuthorizationRequestChecks(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	e := newEnv(t, st, withHTTPClient)
	logs := captureDefaultLog(t)
	_, challenge := pkce()
	base := ncAuthorize(challenge)
	base.Del("state")
	enc := base.Encode()

	q := redirectQuery(t, e.authorizeRaw(enc+"&state=a&state=b"), ncRedirect)
	if q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "state") || q.Has("state") {
		t.Errorf("repeated state: %v", q)
	}
	q = redirectQuery(t, e.authorizeRaw(enc+"&state=s&scope=openid"), ncRedirect)
	if q.Get("error") != "invalid_request" || q.Get("state") != "s" || !strings.Contains(q.Get("error_description"), "scope") {
		t.Errorf("repeated scope: %v", q)
	}
	// RFC 8707 lets resource repeat.
	if r := e.authorizeRaw(enc + "&state=s&resource=https%3A%2F%2Fa.example&resource=https%3A%2F%2Fb.example"); r.status != http.StatusFound ||
		!strings.Contains(r.header.Get("Location"), "/login?") {
		t.Errorf("repeated resource refused: %d %q", r.status, r.header.Get("Location"))
	}
	// A repeated client_id or redirect_uri cannot be trusted for a redirect.
	for _, extra := range []string{"&client_id=spa", "&redirect_uri=" + url.QueryEscape(ncRedirect)} {
		if r := e.authorizeRaw(enc + extra); r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
			t.Errorf("repeated %s: %d %q", extra, r.status, r.header.Get("Location"))
		}
	}
	q = redirectQuery(t, e.authorizeRaw(enc+"&state=s&request_uri="+url.QueryEscape("urn:ietf:params:oauth:request_uri:x")), ncRedirect)
	if q.Get("error") != "request_uri_not_supported" || q.Get("state") != "s" {
		t.Errorf("request_uri: %v", q)
	}
	for _, rt := range []string{"token", "id_token", "code id_token", "none"} {
		for client, redirect := range map[string]string{"nc": ncRedirect, "nchttp": httpRedirect} {
			v := ncAuthorize(challenge)
			v.Set("client_id", client)
			v.Set("redirect_uri", redirect)
			v.Set("response_type", rt)
			q := redirectQuery(t, e.authorizeRaw(v.Encode()), redirect)
			if q.Get("error") != "unsupported_response_type" || q.Get("state") != "st4te" {
				t.Errorf("response_type=%s to %s: %v", rt, redirect, q)
			}
		}
	}
	// Unsupported response type with an unknown redirect: a page, no redirect.
	v := ncAuthorize(challenge)
	v.Set("response_type", "token")
	v.Set("redirect_uri", "https://evil.example/cb")
	if r := e.authorizeRaw(v.Encode()); r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
		t.Errorf("bad response type, unregistered redirect: %d %q", r.status, r.header.Get("Location"))
	}

	long := strings.Repeat("S", maxStateBytes+1)
	q = redirectQuery(t, e.authorizeRaw(enc+"&state="+long), ncRedirect)
	if q.Get("error") != "invalid_request" || q.Has("state") {
		t.Errorf("long state: error %q, state echoed %v", q.Get("error"), q.Has("state"))
	}
	if r := e.authorizeRaw(enc + "&state=" + strings.Repeat("S", maxStateBytes)); r.status != http.StatusFound ||
		!strings.Contains(r.header.Get("Location"), "/login?") {
		t.Errorf("state of exactly %d bytes refused: %d %q", maxStateBytes, r.status, r.header.Get("Location"))
	}
	if strings.Contains(logs.String(), strings.Repeat("S", 256)) {
		t.Error("an oversized state reached the log")
	}
}

// Issue 7 item 17 (and 15 for form_post): the form_post page has the
// broker's page policy and carries code, state and iss.
func TestFormPostPage(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	linkAlice(t, st)
	e := newEnv(t, st, nil)
	_, challenge := pkce()
	q := ncAuthorize(challenge)
	q.Set("response_mode", "form_post")
	id, r := e.authorize(q)
	if id == "" {
		t.Fatalf("authorize: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	next, err := e.p.CompleteLogin(t.Context(), id, alice, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(next)
	page := e.send("GET", u.RequestURI(), nil, nil, nil)
	if page.status != http.StatusOK || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
		t.Fatalf("form_post page: %d %s", page.status, page.body)
	}
	csp := page.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action https://cloud.example"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || page.header.Get("X-Frame-Options") != "DENY" || page.header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: CSP %q, XFO %q, Cache-Control %q", csp, page.header.Get("X-Frame-Options"), page.header.Get("Cache-Control"))
	}
	if strings.Contains(page.body, "onload") {
		t.Error("page uses an inline event handler, which the CSP blocks")
	}
	// The one inline script is the one the CSP hash allows.
	m := regexp.MustCompile(`<script>([^<]*)</script>`).FindAllStringSubmatch(page.body, -1)
	if len(m) != 1 {
		t.Fatalf("want one inline script, page: %s", page.body)
	}
	sum := sha256.Sum256([]byte(m[0][1]))
	if !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
		t.Errorf("CSP %q does not allow the page's script", csp)
	}
	fields := map[string]string{}
	for _, f := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(page.body, -1) {
		fields[f[1]] = f[2]
	}
	if fields["code"] == "" || fields["state"] != "st4te" || fields["iss"] != e.issuer {
		t.Errorf("form fields = %v", fields)
	}
	if !strings.Contains(page.body, `action="`+ncRedirect+`"`) {
		t.Errorf("form does not post to the redirect URI: %s", page.body)
	}
}

// Issue 7 item 14: no CORS on the endpoints clients call from servers,
// public documents for anyone without credentials, configured origins
// only for token and userinfo.
func TestCORSPolicy(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	linkAlice(t, st)
	const spaOrigin = "https://app.example"
	e := newEnv(t, st, func(c *config.Config) { c.OIDC.CORSAllowedOrigins = []string{spaOrigin} })
	at := e.exchange()["access_token"].(string)
	evil := map[string]string{"Origin": "https://evil.example"}
	good := map[string]string{"Origin": spaOrigin}
	bearer := func(origin map[string]string) map[string]string {
		h := map[string]string{"Authorization": "Bearer " + at}
		for k, v := range origin {
			h[k] = v
		}
		return h
	}
	for name, r := range map[string]rawResponse{
		"token":                       e.send("POST", "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, &[2]string{"nc", ncSecret}, evil),
		"userinfo":                    e.send("GET", "/userinfo", nil, nil, bearer(evil)),
		"introspect":                  e.send("POST", "/introspect", url.Values{"token": {at}}, &[2]string{"nc", ncSecret}, evil),
		"revoke":                      e.send("POST", "/revoke", url.Values{"token": {"x"}}, &[2]string{"nc", ncSecret}, evil),
		"authorize":                   e.send("GET", "/authorize?client_id=nc", nil, nil, evil),
		"introspect (allowed origin)": e.send("POST", "/introspect", url.Values{"token": {at}}, &[2]string{"nc", ncSecret}, good),
	} {
		if v := r.header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("%s: Access-Control-Allow-Origin %q for a foreign origin", name, v)
		}
		if v := r.header.Get("Access-Control-Allow-Credentials"); v != "" {
			t.Errorf("%s: Access-Control-Allow-Credentials %q", name, v)
		}
	}
	for _, path := range []string{"/jwks", "/.well-known/openid-configuration"} {
		r := e.send("GET", path, nil, nil, evil)
		if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s: %d ACAO %q ACAC %q", path, r.status, r.header.Get("Access-Control-Allow-Origin"), r.header.Get("Access-Control-Allow-Credentials"))
		}
	}
	r := e.send("GET", "/userinfo", nil, nil, bearer(good))
	if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != spaOrigin || r.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("userinfo from the configured origin: %d ACAO %q ACAC %q", r.status, r.header.Get("Access-Control-Allow-Origin"), r.header.Get("Access-Control-Allow-Credentials"))
	}
	preflight := func(path string, origin string) rawResponse {
		return e.send("OPTIONS", path, nil, nil, map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "authorization"})
	}
	if r := preflight("/token", spaOrigin); r.header.Get("Access-Control-Allow-Origin") != spaOrigin ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "POST") || !strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight from the configured origin: %d %v", r.status, r.header)
	}
	for _, path := range []string{"/token", "/userinfo", "/introspect", "/revoke"} {
		if r := preflight(path, "https://evil.example"); r.header.Get("Access-Control-Allow-Origin") != "" || r.header.Get("Access-Control-Allow-Methods") != "" {
			t.Errorf("preflight %s from a foreign origin allowed: %v", path, r.header)
		}
	}
	// Without configuration no origin is allowed anywhere but the public
	// documents.
	e2 := newEnv(t, st, nil)
	if r := e2.send("GET", "/userinfo", nil, nil, bearer(good)); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("default config allows %q at userinfo", r.header.Get("Access-Control-Allow-Origin"))
	}
}

// Errors of a form_post request are form-posted too, including those op
// raises itself (which it would redirect in the query).
func TestFormPostErrors(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	e := newEnv(t, st, nil)
	fields := func(body string) map[string]string {
		out := map[string]string{}
		for _, f := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(body, -1) {
			out[f[1]] = f[2]
		}
		return out
	}
	// Raised in op: a public client without PKCE.
	spa := url.Values{"client_id": {"spa"}, "redirect_uri": {spaRedir}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"s"}, "response_mode": {"form_post"}}
	r := e.authorizeRaw(spa.Encode())
	if f := fields(r.body); r.status != http.StatusOK || r.header.Get("Location") != "" || f["error"] != "invalid_request" ||
		f["state"] != "s" || f["iss"] != e.issuer || !strings.Contains(r.header.Get("Content-Security-Policy"), "form-action https://app.example") {
		t.Errorf("op error as form_post: %d %q %v %q", r.status, r.header.Get("Location"), f, r.header.Get("Content-Security-Policy"))
	}
	// Raised by the broker's checks.
	_, challenge := pkce()
	q := ncAuthorize(challenge)
	q.Set("response_mode", "form_post")
	q.Set("request_uri", "urn:x")
	r = e.authorizeRaw(q.Encode())
	if f := fields(r.body); r.status != http.StatusOK || f["error"] != "request_uri_not_supported" || f["iss"] != e.issuer || f["state"] != "st4te" {
		t.Errorf("broker error as form_post: %d %v", r.status, f)
	}
	// The login page redirect is left alone.
	q.Del("request_uri")
	if r := e.authorizeRaw(q.Encode()); r.status != http.StatusFound || !strings.Contains(r.header.Get("Location"), "/login?") {
		t.Errorf("form_post login start: %d %q", r.status, r.header.Get("Location"))
	}
}

// A login the login page ends (refused address, failed prompt=none) for a
// form_post client is delivered by a form_post page too, through a
// broker URL only the broker can make.
func TestFormPostErrorsFromTheLoginPage(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	now := time.Now()
	e := newEnv(t, st, nil)
	e.p.now = func() time.Time { return now }
	_, challenge := pkce()
	q := ncAuthorize(challenge)
	q.Set("response_mode", "form_post")
	id, _ := e.authorize(q)
	to, err := e.p.DenyLogin(t.Context(), id, "this address is not linked")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(to)
	if u.Scheme+"://"+u.Host != e.issuer || u.Path != formPostPath {
		t.Fatalf("DenyLogin for form_post sends the browser to %s", to)
	}
	page := e.send("GET", u.RequestURI(), nil, nil, nil)
	fields := map[string]string{}
	for _, f := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(page.body, -1) {
		fields[f[1]] = f[2]
	}
	if page.status != http.StatusOK || fields["error"] != "access_denied" || fields["state"] != "st4te" || fields["iss"] != e.issuer ||
		fields["error_description"] != "this address is not linked" || !strings.Contains(page.body, `action="`+ncRedirect+`"`) ||
		!strings.Contains(page.header.Get("Content-Security-Policy"), "form-action https://cloud.example") {
		t.Errorf("form_post error page: %d %v %q", page.status, fields, page.header.Get("Content-Security-Policy"))
	}

	q.Set("prompt", "none")
	id, _ = e.authorize(q)
	if to, err = e.p.FailSilentLogin(t.Context(), id, "sign in first"); err != nil {
		t.Fatal(err)
	}
	u, _ = url.Parse(to)
	if page := e.send("GET", u.RequestURI(), nil, nil, nil); page.status != http.StatusOK || !strings.Contains(page.body, `name="error" value="login_required"`) {
		t.Errorf("failed silent login for form_post: %d %s", page.status, page.body)
	}

	// Forged, tampered and expired links are refused.
	good := u.Query()
	for name, v := range map[string]url.Values{
		"no mac":   {"d": {good.Get("d")}},
		"bad mac":  {"d": {good.Get("d")}, "k": {"AAAA"}},
		"tampered": {"d": {good.Get("d") + "QQ"}, "k": {good.Get("k")}},
	} {
		if r := e.send("GET", formPostPath+"?"+v.Encode(), nil, nil, nil); r.status != http.StatusBadRequest || strings.Contains(r.body, "<form") {
			t.Errorf("%s: %d", name, r.status)
		}
	}
	now = now.Add(formPostTTL + time.Second)
	if r := e.send("GET", u.RequestURI(), nil, nil, nil); r.status != http.StatusBadRequest {
		t.Errorf("expired link: %d", r.status)
	}
	// Query-mode clients still get a plain redirect.
	q.Del("response_mode")
	q.Del("prompt")
	id, _ = e.authorize(q)
	if to, _ := e.p.DenyLogin(t.Context(), id, "no"); !strings.HasPrefix(to, ncRedirect+"?") {
		t.Errorf("query-mode DenyLogin: %s", to)
	}
}

func TestCSPOriginRefusesDirectiveBreaks(t *testing.T) {
	for raw, want := range map[string]string{
		"https://cloud.example/apps/x?y=1": "https://cloud.example",
		"http://127.0.0.1:8080/cb":         "http://127.0.0.1:8080",
		"https://[::1]:8443/cb":            "https://[::1]:8443",
		"https://a;b.example/cb":           "",
		"https://a'b.example/cb":           "",
		"javascript:alert(1)":              "",
	} {
		if got, ok := cspOrigin(raw); got != want || ok != (want != "") {
			t.Errorf("cspOrigin(%q) = %q, %v; want %q", raw, got, ok, want)
		}
	}
}
