package server

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

var (
	formCSRF      = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	formChallenge = regexp.MustCompile(`name="challengeId" id="challenge-id" value="([^"]+)"`)
	formMessage   = regexp.MustCompile(`(?s)<pre class="message" id="message"[^>]*>(.*?)</pre>`)
)

// The console is mounted on the broker, on the same services and store as
// the admin API, and its sessions hold across replicas sharing the store.
func TestConsoleMountedAcrossReplicas(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		accts := qortaltest.Accounts(t)
		alice, bob := accts["alice"], accts["bob"]
		st := open(t)
		nc := newFakeNextcloud(t)
		nc.AddUser(ocsfake.User{ID: "carol", DisplayName: "Carol"})
		admins := func(c *config.Config) { c.Admin.Addresses = []string{alice.Address} }
		one, two := newBroker(t, st, nc, admins), newBroker(t, st, nc, admins)

		jar, _ := cookiejar.New(nil) // ignores ports: both replicas get the cookie
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		do := func(b *broker, method, path string, form url.Values) (int, string, string) {
			t.Helper()
			var body io.Reader
			if form != nil {
				body = strings.NewReader(form.Encode())
			}
			req, _ := http.NewRequest(method, b.http.URL+path, body)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", "http://127.0.0.1:1") // the configured issuer's origin
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(raw), res.Header.Get("Location")
		}
		field := func(re *regexp.Regexp, page string) string {
			t.Helper()
			m := re.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no %v in:\n%s", re, page)
			}
			return html.UnescapeString(m[1])
		}

		if code, _, loc := do(one, "GET", "/admin", nil); code != http.StatusSeeOther || loc != "/admin/signin" {
			t.Fatalf("GET /admin = %d to %q", code, loc)
		}
		_, page, _ := do(one, "GET", "/admin/signin", nil)
		_, page, _ = do(one, "POST", "/admin/signin", url.Values{"csrf": {field(formCSRF, page)}, "address": {alice.Address}})
		proof := one.sign(alice, field(formMessage, page))
		code, _, loc := do(one, "POST", "/admin/signin/verify", url.Values{"csrf": {field(formCSRF, page)},
			"challengeId": {field(formChallenge, page)}, "publicKey": {proof.PublicKey}, "signature": {proof.Signature}})
		if code != http.StatusSeeOther || loc != "/admin/" {
			t.Fatalf("verify = %d to %q", code, loc)
		}

		// The other replica knows the session and acts through the shared services.
		code, page, _ = do(two, "GET", "/admin/mappings", nil)
		if code != http.StatusOK {
			t.Fatalf("replica two /admin/mappings = %d", code)
		}
		code, _, _ = do(two, "POST", "/admin/mappings/link", url.Values{"csrf": {field(formCSRF, page)},
			"address": {bob.Address}, "userId": {"carol"}})
		if code != http.StatusSeeOther {
			t.Fatalf("link on replica two = %d", code)
		}
		if r := one.do("GET", "/api/provision/mapping/"+bob.Address, nil); r.Status != http.StatusOK || r.Body["nextcloudUserId"] != "carol" {
			t.Fatalf("API sees %d %v", r.Status, r.Raw)
		}
		if r := one.do("GET", "/api/audit?limit=1", nil); !strings.Contains(r.Raw, `"actor":"admin:`+alice.Address+`"`) ||
			!strings.Contains(r.Raw, "mapping.create") {
			t.Errorf("audit via API = %s", r.Raw)
		}

		// Signing out on one replica ends the session on both.
		adminURL := &url.URL{Scheme: "http", Host: "127.0.0.1", Path: "/admin/"}
		old := jar.Cookies(adminURL)
		_, page, _ = do(one, "GET", "/admin/", nil)
		if code, _, _ := do(one, "POST", "/admin/signout", url.Values{"csrf": {field(formCSRF, page)}}); code != http.StatusSeeOther {
			t.Fatalf("signout = %d", code)
		}
		if left := jar.Cookies(adminURL); len(left) != 0 {
			t.Errorf("cookies left after sign-out: %v", left)
		}
		jar.SetCookies(adminURL, old) // a copy of the cookie taken before signing out
		if code, _, loc := do(two, "GET", "/admin/", nil); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/signin") {
			t.Errorf("old cookie on replica two after sign-out = %d to %q", code, loc)
		}
	})
}
