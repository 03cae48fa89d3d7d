package login

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/oidcprovider"
)

func (e *env) get(path string) (*http.Response, string) {
	e.t.Helper()
	res, err := e.srv.Client().Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestLoginPage(t *testing.T) {
	e := newEnv(t, testConfig())
	res, body := e.get("/login?authRequestID=ar1")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d\n%s", res.StatusCode, body)
	}
	wantHeaders := map[string]string{
		"Content-Security-Policy": pageCSP,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
	}
	for k, v := range wantHeaders {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, want := range []string{`data-auth-request-id="ar1"`, "Sign in to <span class=\"client\">Example Cloud</span>", "id.example.org"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Every script and stylesheet is a versioned URL the broker serves.
	refs := regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(refs) < 3 {
		t.Fatalf("expected css, js and icon references, got %v", refs)
	}
	for _, m := range refs {
		ref := strings.ReplaceAll(m[1], "&amp;", "&")
		res, _ := e.get(ref)
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") || res.Header.Get("ETag") == "" {
			t.Errorf("%s: %d Cache-Control %q ETag %q", ref, res.StatusCode, res.Header.Get("Cache-Control"), res.Header.Get("ETag"))
		}
	}
}

func TestLoginPageEscapesClientName(t *testing.T) {
	e := newEnv(t, testConfig())
	e.prov.add("ar-x", "evil", `<script>alert(1)</script>`)
	_, body := e.get("/login?authRequestID=ar-x")
	if strings.Contains(body, "<script>alert") {
		t.Fatal("client name rendered unescaped")
	}
}

func TestLoginPageUnknownAuthRequest(t *testing.T) {
	e := newEnv(t, testConfig())
	res, body := e.get("/login?authRequestID=missing")
	if res.StatusCode != http.StatusGone || !strings.Contains(body, "expired") {
		t.Fatalf("status %d\n%s", res.StatusCode, body)
	}
	if res.Header.Get("Content-Security-Policy") != pageCSP {
		t.Fatal("error page without CSP")
	}
	res, _ = e.get("/login")
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("no id: status %d", res.StatusCode)
	}
}

func TestDeniedPageRejectsUnknownReason(t *testing.T) {
	e := newEnv(t, testConfig())
	res, _ := e.get("/login/denied?authRequestID=ar1&reason=whatever")
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d", res.StatusCode)
	}
}

func TestStaticAssets(t *testing.T) {
	e := newEnv(t, testConfig())
	res, body := e.get("/static/login.js")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" ||
		res.Header.Get("Cache-Control") != "no-cache" || !strings.Contains(body, "qortalRequest") {
		t.Fatalf("login.js: %d %v", res.StatusCode, res.Header)
	}
	etag := res.Header.Get("ETag")
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/static/login.js", nil)
	req.Header.Set("If-None-Match", etag)
	res2, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: status %d", res2.StatusCode)
	}
	if res, _ := e.get("/static/missing.js"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("missing asset: %d", res.StatusCode)
	}
	if res, _ := e.get("/static/..%2fweb.go"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("traversal: %d", res.StatusCode)
	}
}

func TestOriginOf(t *testing.T) {
	cases := map[string]string{
		"https://cloud.example/index.php/apps/user_oidc/code": "https://cloud.example",
		"http://127.0.0.1:8080/cb":                            "http://127.0.0.1:8080",
		"com.example.app:/cb":                                 "",
		"javascript:alert(1)":                                 "",
	}
	for in, want := range cases {
		if got := originOf(oidcprovider.AuthRequestInfo{RedirectURI: in}); got != want {
			t.Errorf("originOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// Another site must not be able to end a login for the user (CSRF on the
// denied page's form); the page's own post still works.
func TestDenyRefusesCrossSitePosts(t *testing.T) {
	e := newEnv(t, testConfig())
	post := func(site string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login/denied",
			strings.NewReader(url.Values{"authRequestID": {"ar1"}, "reason": {"not_linked"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "null") // what no-referrer pages send, same site or not
		req.Header.Set("Sec-Fetch-Site", site)
		client := e.srv.Client()
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	for _, site := range []string{"cross-site", "same-site"} {
		if res := post(site); res.StatusCode != http.StatusForbidden {
			t.Errorf("Sec-Fetch-Site %s: %d, want 403", site, res.StatusCode)
		}
	}
	if e.prov.denied["ar1"] != "" {
		t.Fatal("a cross-site post ended the login")
	}
	if res := post("same-origin"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin post: %d, want 303", res.StatusCode)
	}
}

// Error pages speak to the person who opened them: what happened and what
// to do, never the API's developer text (field names like authRequestId).
func TestErrorPagesUseUserFacingWording(t *testing.T) {
	e := newEnv(t, testConfig())
	developer := regexp.MustCompile(`(?i)authRequestI[dD]|malformed|invalid_request|auth_request_expired|unknown reason`)
	for _, tc := range []struct {
		path   string
		status int
		want   []string
	}{
		{"/login", http.StatusBadRequest, []string{"This sign-in link is incomplete", "does not say which app you are signing in to", "sign in with Qortal again"}},
		{"/login?authRequestID=" + strings.Repeat("x", maxAuthRequestIDLen+1), http.StatusBadRequest, []string{"This sign-in link is incomplete"}},
		{"/login?authRequestID=missing", http.StatusGone, []string{"This sign-in has expired", "work for a few minutes and only once", "start signing in again"}},
		{"/login/denied?authRequestID=ar1&reason=whatever", http.StatusBadRequest, []string{"This page&#39;s link is incomplete", "start signing in again"}},
		{"/login/denied?reason=not_linked", http.StatusBadRequest, []string{"This sign-in link is incomplete"}},
	} {
		res, body := e.get(tc.path)
		if res.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, res.StatusCode, tc.status)
		}
		main := body[strings.Index(body, "<main"):]
		for _, w := range tc.want {
			if !strings.Contains(main, w) {
				t.Errorf("%s: page lacks %q:\n%s", tc.path, w, main)
			}
		}
		if m := developer.FindString(main); m != "" {
			t.Errorf("%s: developer wording %q on the page:\n%s", tc.path, m, main)
		}
	}
	// The JSON API keeps its precise developer message.
	if w := pageWording(errInvalid("x")); w.heading == "" || w.hint == "" {
		t.Errorf("default wording %+v", w)
	}
	for _, e := range []*apiError{
		newErr(http.StatusServiceUnavailable, "unavailable", "the service is temporarily unavailable, please retry"),
		newErr(http.StatusInternalServerError, "internal", "internal error"),
	} {
		w := pageWording(e)
		if w.heading == "" || w.message == "" || w.hint == "" || strings.Contains(w.message, "internal error") {
			t.Errorf("%s: wording %+v", e.Code, w)
		}
	}
}
