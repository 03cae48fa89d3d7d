package server

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// standaloneDemo is a broker with no Nextcloud (policy standalone by
// default) and the demo app on, as configs/dev.yaml runs.
func standaloneDemo(t *testing.T) *cluster {
	t.Helper()
	return newCluster(t, storetest.Shared(t, storetest.SQLite), newFakeNextcloud(t), 1, "ES256", func(c *config.Config) {
		c.Nextcloud = config.Nextcloud{}
		c.Demo.Enabled = true
	})
}

func (b *browser) fetch(method, u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Origin", b.c.issuer)
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res, string(raw)
}

// follow walks redirects on the broker's origin until a page answers.
func (b *browser) follow(res *http.Response) (*http.Response, string) {
	b.t.Helper()
	body := ""
	for i := 0; i < 10 && res.StatusCode/100 == 3; i++ {
		loc, err := res.Request.URL.Parse(res.Header.Get("Location"))
		if err != nil {
			b.t.Fatal(err)
		}
		res, body = b.fetch(http.MethodGet, loc.String(), nil)
	}
	return res, body
}

var claimsPre = regexp.MustCompile(`(?s)<pre[^>]*id="claims"[^>]*>(.*?)</pre>`)

// TestDemoAppStandalone: on a broker without Nextcloud the demo app signs a
// Qortal key in through the real code + PKCE flow, shows the verified
// claims with sub = the address, and signs out through end_session.
func TestDemoAppStandalone(t *testing.T) {
	c := standaloneDemo(t)
	alice := qortaltest.Accounts(t)["alice"]
	b := newBrowser(t, c)
	b.rp = c.issuer + "/demo/callback"

	res, page := b.fetch(http.MethodGet, c.issuer+"/demo", nil)
	if res.StatusCode != 200 || !strings.Contains(page, `id="demo-signin"`) || res.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("/demo: %d %s", res.StatusCode, page)
	}
	res, _ = b.fetch(http.MethodPost, c.issuer+"/demo/login", url.Values{})
	auth, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || auth.Path != "/authorize" || auth.Query().Get("code_challenge_method") != "S256" ||
		auth.Query().Get("client_id") != "qortal-oidc-demo" || auth.Query().Get("nonce") == "" || auth.Query().Get("state") == "" {
		t.Fatalf("/demo/login: %d %s", res.StatusCode, auth)
	}
	res, _ = b.follow(res)
	if res.StatusCode != 200 || res.Request.URL.Path != "/login" {
		t.Fatalf("expected the signing page, got %d %s", res.StatusCode, res.Request.URL)
	}
	cb, _ := b.sign(res.Request.URL.Query().Get("authRequestID"), alice)
	// sign stops at the relying party's redirect; the demo's is on the broker.
	if cb.Path != "/demo/callback" {
		t.Fatalf("callback = %s", cb)
	}
	res, page = b.fetch(http.MethodGet, cb.String(), nil)
	res, page = b.follow(res)
	m := claimsPre.FindStringSubmatch(page)
	if res.StatusCode != 200 || m == nil {
		t.Fatalf("/demo after sign-in: %d %s", res.StatusCode, page)
	}
	var claims map[string]any
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &claims); err != nil {
		t.Fatalf("claims block is not JSON: %v\n%s", err, m[1])
	}
	if claims["sub"] != alice.Address || claims["qortal_address"] != alice.Address || claims["iss"] != c.issuer || claims["aud"] == nil {
		t.Errorf("claims = %v: want sub = the address (standalone)", claims)
	}
	if !strings.Contains(page, `id="userinfo"`) || !strings.Contains(page, alice.Address) {
		t.Errorf("no userinfo on the page")
	}

	// A callback replayed or forged is refused with a page, not a crash.
	res, page = b.fetch(http.MethodGet, cb.String(), nil)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="demo-error"`) {
		t.Errorf("replayed callback: %d", res.StatusCode)
	}

	// Sign out: demo session gone, broker session ended via end_session.
	res, _ = b.fetch(http.MethodPost, c.issuer+"/demo/logout", url.Values{})
	if loc, _ := url.Parse(res.Header.Get("Location")); loc == nil || loc.Path != "/end_session" || loc.Query().Get("id_token_hint") == "" {
		t.Fatalf("/demo/logout: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	res, page = b.follow(res)
	if res.Request.URL.Path != "/demo" || !strings.Contains(page, `id="demo-notice"`) || strings.Contains(page, `id="claims"`) {
		t.Fatalf("after sign-out: %s\n%s", res.Request.URL, page)
	}
	if b.ssoCookie() != "" {
		t.Error("sign-out left the broker session cookie")
	}
	res, _ = b.fetch(http.MethodPost, c.issuer+"/demo/login", url.Values{})
	res, _ = b.follow(res)
	if res.Request.URL.Path != "/login" {
		t.Errorf("after sign-out the next demo sign-in skipped the signature: %s", res.Request.URL)
	}

	// Cross-site sign-out posts are refused.
	req, _ := http.NewRequest(http.MethodPost, c.issuer+"/demo/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if r, err := b.client.Do(req); err != nil || r.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site sign-out: %v %v", r.StatusCode, err)
	}
}

// TestLandingPageAndHTMLNotFound: GET / is a page, unknown console pages are
// HTML 404s, unknown API paths stay JSON.
func TestLandingPageAndHTMLNotFound(t *testing.T) {
	c := standaloneDemo(t)
	b := newBrowser(t, c)
	res, page := b.fetch(http.MethodGet, c.issuer+"/", nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(page, `href="/demo"`) || !strings.Contains(page, `/.well-known/openid-configuration`) || !strings.Contains(page, `href="/admin"`) {
		t.Fatalf("GET /: %d %s", res.StatusCode, page)
	}
	res, page = b.fetch(http.MethodGet, c.issuer+"/admin/no-such-page?x=<b>", nil)
	if res.StatusCode != 404 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(page, "Page not found") ||
		!strings.Contains(page, "admin.css") {
		t.Fatalf("unknown console page: %d %s", res.StatusCode, page)
	}
	res, _ = b.fetch(http.MethodGet, c.issuer+"/no-such-thing", nil)
	if res.StatusCode != 404 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("unknown path: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	// Without the demo the landing page does not link to it, and /demo is gone.
	off := newCluster(t, storetest.Shared(t, storetest.SQLite), newFakeNextcloud(t), 1, "ES256")
	ob := newBrowser(t, off)
	if _, page := ob.fetch(http.MethodGet, off.issuer+"/", nil); strings.Contains(page, `/demo"`) {
		t.Error("landing page links to a disabled demo")
	}
	if res, _ := ob.fetch(http.MethodGet, off.issuer+"/demo", nil); res.StatusCode != 404 {
		t.Errorf("/demo with the demo off: %d", res.StatusCode)
	}
}
