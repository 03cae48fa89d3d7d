package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func serve(t *testing.T, a *Assets, name, url string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	a.Serve(w, req, name)
	return w.Result()
}

func TestAssetsVersionedAndUnversioned(t *testing.T) {
	a, err := LoadAssets()
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.URL("/static/", "login.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, "/static/login.js?v=") || len(u) == len("/static/login.js?v=") {
		t.Fatalf("URL = %q", u)
	}
	res := serve(t, a, "login.js", u)
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("versioned: %d %v", res.StatusCode, res.Header)
	}
	etag := res.Header.Get("ETag")
	if etag != `"`+strings.SplitN(u, "?v=", 2)[1]+`"` {
		t.Fatalf("ETag %s does not match the URL version %s", etag, u)
	}
	if res := serve(t, a, "login.js", "/static/login.js?v=old"); res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("a stale version is cached: %v", res.Header)
	}
	if res := serve(t, a, "login.js", "/static/login.js", "If-None-Match", etag); res.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation with the ETag = %d, want 304", res.StatusCode)
	}
}

func TestAssetsSubsetAndUnknown(t *testing.T) {
	a, err := LoadAssets("logo.svg")
	if err != nil {
		t.Fatal(err)
	}
	if res := serve(t, a, "login.js", "/static/login.js"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("a file outside the set is served: %d", res.StatusCode)
	}
	if _, err := a.URL("/static/", "login.js"); err == nil {
		t.Fatal("URL of a file outside the set succeeded")
	}
	res := serve(t, a, "logo.svg", "/static/logo.svg")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("svg: %d %v", res.StatusCode, res.Header)
	}
	if _, err := LoadAssets("missing.js"); err == nil {
		t.Fatal("a missing file loaded")
	}
	if _, err := LoadAssets("../static/app.css"); err == nil {
		t.Fatal("a file outside static/ loaded")
	}
}

// Every embedded static file must have a content type, or LoadAssets()
// (which the login handler uses) fails at startup.
func TestEveryStaticFileHasAContentType(t *testing.T) {
	err := fs.WalkDir(Static(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if _, err := LoadAssets(p); err != nil {
				t.Error(err)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
