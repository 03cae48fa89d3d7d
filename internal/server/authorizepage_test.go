package server

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

var pageAuthRequestID = regexp.MustCompile(`data-auth-request-id="([^"]+)"`)

// pageChallengeAttrs are the login page's own challenge: fresh in every
// page, so two pages of one request differ only there.
var pageChallengeAttrs = regexp.MustCompile(`data-(challenge-id|challenge-expires|message-stamp)="[^"]+"`)

// samePageButChallenge reports whether two login pages are the same but for
// their challenges, and each has one.
func samePageButChallenge(a, b string) bool {
	if len(pageChallengeAttrs.FindAllString(a, -1)) != 3 || len(pageChallengeAttrs.FindAllString(b, -1)) != 3 || a == b {
		return false
	}
	return pageChallengeAttrs.ReplaceAllString(a, "$1") == pageChallengeAttrs.ReplaceAllString(b, "$1")
}

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

func getPage(t *testing.T, method, u, accept string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// TestAuthorizeAnswersABrowserWithTheLoginPage: a browser following the
// relying party's redirect gets the login page in /authorize's own answer
// (no redirect to it), byte for byte and header for header what GET
// /login?authRequestID= answers for the same request, and the login
// completes from it. Everything else still gets the redirect: clients that
// do not ask for HTML, POSTed requests; and a request op refuses gets op's
// refusal, not a page.
func TestAuthorizeAnswersABrowserWithTheLoginPage(t *testing.T) {
	accts := qortaltest.Accounts(t)
	alice := accts["alice"]
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			nc := newFakeNextcloud(t)
			c := newCluster(t, storetest.Shared(t, kind), nc, 2, "EdDSA")
			if r := c.admin.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address, "nextcloudUserId": "alice"}); r.Status != http.StatusCreated {
				t.Fatalf("provision: %d %s", r.Status, r.Raw)
			}
			relying, err := rp.NewRelyingPartyOIDC(context.Background(), c.issuer, rpID, rpSecret, rpRedirect, []string{"openid"})
			if err != nil {
				t.Fatal(err)
			}
			_, challenge := pkcePair()
			authURL := rp.AuthURL("st4te", relying, rp.WithCodeChallenge(challenge))

			res, page := getPage(t, http.MethodGet, authURL, browserAccept)
			m := pageAuthRequestID.FindStringSubmatch(page)
			if res.StatusCode != http.StatusOK || res.Header.Get("Location") != "" || m == nil {
				t.Fatalf("browser GET /authorize: %d, Location %q, page with a request id: %v", res.StatusCode, res.Header.Get("Location"), m != nil)
			}
			id := m[1]
			// The replicas take turns: the page is the same on either.
			direct, directPage := getPage(t, http.MethodGet, c.issuer+"/login?authRequestID="+url.QueryEscape(id), browserAccept)
			if direct.StatusCode != http.StatusOK || !samePageButChallenge(directPage, page) {
				t.Errorf("GET /login for the same request: %d, same page but for a challenge of its own %v", direct.StatusCode, samePageButChallenge(directPage, page))
			}
			for _, h := range []string{"Content-Type", "Content-Length", "Content-Security-Policy", "X-Frame-Options", "Cache-Control",
				"Referrer-Policy", "X-Content-Type-Options", "Set-Cookie"} {
				if res.Header.Get(h) != direct.Header.Get(h) {
					t.Errorf("header %s = %q at /authorize, %q at /login", h, res.Header.Get(h), direct.Header.Get(h))
				}
			}
			if !strings.Contains(res.Header.Get("Vary"), "Accept") {
				t.Errorf("the page at /authorize: Vary %q, want Accept named", res.Header.Get("Vary"))
			}
			if status, out := c.signIn(t, id, alice); status != http.StatusOK {
				t.Fatalf("signing in from the page /authorize served: %d %v", status, out)
			} else if code, state := c.follow(t, out["redirectTo"].(string)); code == "" || state != "st4te" {
				t.Errorf("code %q state %q", code, state)
			}

			// Not a browser navigation: the redirect, as before.
			for _, accept := range []string{"", "application/json", "*/*"} {
				res, _ := getPage(t, http.MethodGet, authURL, accept)
				loc, _ := url.Parse(res.Header.Get("Location"))
				if res.StatusCode != http.StatusFound || loc == nil || loc.Path != "/login" || loc.Query().Get("authRequestID") == "" ||
					!strings.Contains(res.Header.Get("Vary"), "Accept") {
					t.Errorf("Accept %q: %d %s, want the redirect to the login page", accept, res.StatusCode, res.Header.Get("Location"))
				}
			}
			u, _ := url.Parse(authURL)
			req, _ := http.NewRequest(http.MethodPost, c.issuer+"/authorize", strings.NewReader(u.RawQuery))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept", browserAccept)
			if res, err := noRedirect.Do(req); err != nil {
				t.Fatal(err)
			} else if res.Body.Close(); res.StatusCode != http.StatusFound || !strings.Contains(res.Header.Get("Location"), "/login?authRequestID=") {
				t.Errorf("POST /authorize: %d %s, want the redirect to the login page", res.StatusCode, res.Header.Get("Location"))
			}

			// Requests op refuses: its answer, never a login page.
			q := u.Query()
			q.Set("redirect_uri", "https://evil.example/cb")
			if res, body := getPage(t, http.MethodGet, c.issuer+"/authorize?"+q.Encode(), browserAccept); res.StatusCode != http.StatusBadRequest || pageAuthRequestID.MatchString(body) {
				t.Errorf("unregistered redirect: %d (login page: %v), want 400", res.StatusCode, pageAuthRequestID.MatchString(body))
			}
			q = u.Query()
			q.Del("code_challenge")
			q.Set("scope", "email")
			if res, body := getPage(t, http.MethodGet, c.issuer+"/authorize?"+q.Encode(), browserAccept); res.StatusCode != http.StatusFound ||
				!strings.HasPrefix(res.Header.Get("Location"), rpRedirect+"?") || pageAuthRequestID.MatchString(body) {
				t.Errorf("request without openid: %d %s, want op's error redirect to the RP", res.StatusCode, res.Header.Get("Location"))
			}
		})
	}
}
