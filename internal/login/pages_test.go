package login

import (
	"io"
	"net/http"
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
