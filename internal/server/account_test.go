package server

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode/nodefake"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

type accountEnv struct {
	c    *cluster
	node *nodefake.Node
	bc   *backchannel
}

func newAccountEnv(t *testing.T, mutate ...func(*config.Config)) *accountEnv {
	t.Helper()
	node := nodefake.New()
	t.Cleanup(node.Close)
	bc := &backchannel{got: make(chan struct{}, 16)}
	bcSrv := newBackchannelServer(t, bc)
	c := newCluster(t, storetest.Shared(t, storetest.SQLite), newFakeNextcloud(t), 1, "ES256", append([]func(*config.Config){func(cfg *config.Config) {
		cfg.Qortal.NodeURL = node.URL()
		cfg.OIDC.Clients[0].BackchannelLogoutURI = bcSrv + "/bc"
	}}, mutate...)...)
	return &accountEnv{c: c, node: node, bc: bc}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signInToAccount signs acct in at /account in browser b and returns the page.
func (e *accountEnv) signInToAccount(t *testing.T, b *browser, acct qortaltest.Account) string {
	t.Helper()
	b.rp = e.c.issuer + "/account/callback"
	res, _ := b.fetch(http.MethodPost, e.c.issuer+"/account/signin", url.Values{})
	res, _ = b.follow(res)
	if res.Request.URL.Path != "/login" {
		t.Fatalf("/account/signin led to %s", res.Request.URL)
	}
	cb, _ := b.sign(res.Request.URL.Query().Get("authRequestID"), acct)
	res, page := b.fetch(http.MethodGet, cb.String(), nil)
	res, page = b.follow(res)
	if res.Request.URL.Path != "/account" {
		t.Fatalf("after sign-in: %s", res.Request.URL)
	}
	return page
}

func (e *accountEnv) post(t *testing.T, b *browser, path, page string, form url.Values) (*http.Response, string) {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the page:\n%s", page)
	}
	form.Set("csrf", m[1])
	res, _ := b.fetch(http.MethodPost, e.c.issuer+path, form)
	return b.follow(res)
}

func TestAccountPage(t *testing.T) {
	e := newAccountEnv(t)
	accts := qortaltest.Accounts(t)
	alice, bob := accts["alice"], accts["bob"]
	if r := e.c.admin.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address, "nextcloudUserId": "alice", "displayName": "Alice <Example>"}); r.Status != http.StatusCreated {
		t.Fatalf("provision: %d %s", r.Status, r.Raw)
	}
	e.node.AddAccount(nodefake.Account{Address: alice.Address, Balance: "12.50000000"})
	e.node.RegisterName("alice-name", alice.Address)

	b := newBrowser(t, e.c)
	res, page := b.fetch(http.MethodGet, e.c.issuer+"/account", nil)
	if res.StatusCode != 200 || !strings.Contains(page, `id="account-signin"`) || !strings.Contains(res.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("/account signed out: %d %s", res.StatusCode, page)
	}
	page = e.signInToAccount(t, b, alice)
	for _, want := range []string{alice.Address, `id="linked-user">alice<`, "Alice &lt;Example&gt;", `id="names">alice-name<`,
		`id="balance">12.50000000<`, `id="this-browser"`, "login.success", "Login Flow v2", "/index.php/settings/user/security"} {
		if !strings.Contains(page, want) {
			t.Errorf("account page lacks %q", want)
		}
	}
	if strings.Contains(page, `id="unlink"`) {
		t.Error("unlink offered although account.allow_unlink is off")
	}

	// A second browser: per-session sign-out of it from the first.
	b2 := newBrowser(t, e.c)
	e.signInToAccount(t, b2, alice)
	_, page = b.fetch(http.MethodGet, e.c.issuer+"/account", nil)
	sessions := regexp.MustCompile(`data-session="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(sessions) != 2 {
		t.Fatalf("sessions listed: %d, want 2", len(sessions))
	}
	var other string
	for _, s := range sessions {
		if bs, err := e.c.admin.store.GetBrokerSession(t.Context(), s[1]); err == nil && bs.TokenHash != hashHex(b.ssoCookie()) {
			other = s[1]
		}
	}
	res, page = e.post(t, b, "/account/sessions/end", page, url.Values{"session": {other}})
	if !strings.Contains(page, `id="notice"`) || strings.Contains(page, other) {
		t.Errorf("per-session sign-out: %d", res.StatusCode)
	}
	if res, p2 := b2.fetch(http.MethodGet, e.c.issuer+"/account", nil); res.StatusCode != 200 || !strings.Contains(p2, `id="account-signin"`) {
		t.Error("the signed-out browser still sees the account")
	}

	// CSRF and origin rules: no token, a wrong token, another origin.
	for name, mod := range map[string]func(*http.Request){
		"no token":     func(r *http.Request) {},
		"wrong origin": func(r *http.Request) { r.Header.Set("Origin", "https://evil.example"); r.Header.Del("Sec-Fetch-Site") },
	} {
		form := url.Values{}
		if name != "no token" {
			form.Set("csrf", csrfField.FindStringSubmatch(page)[1])
		}
		req, _ := http.NewRequest(http.MethodPost, e.c.issuer+"/account/sessions/end-all", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Origin", e.c.issuer)
		mod(req)
		if r, err := b.client.Do(req); err != nil || r.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %v %v", name, r.StatusCode, err)
		}
	}

	// The node down: the page still renders, names/balance marked unavailable.
	e.node.SetDown(true)
	b3 := newBrowser(t, e.c)
	page = e.signInToAccount(t, b3, bob) // bob: not in the cache yet
	if !strings.Contains(page, `id="node-unavailable"`) || !strings.Contains(page, `id="sessions"`) {
		t.Errorf("node down: page lacks the unavailable note or the rest")
	}
	e.node.SetDown(false)
	// bob is not linked: he still gets in to see that, and what to do;
	// that is not a refused login in his activity.
	if !strings.Contains(page, `id="not-linked"`) {
		t.Error("an unlinked address does not see that it is not linked")
	}
	if strings.Contains(page, "login.denied") || !strings.Contains(page, "login.success") {
		t.Error("signing in to /account is recorded as a refused login")
	}
	// His broker session does not let him into an application: the policy
	// is asked again (prompt=none: login_required; else the signing page).
	relying, err := rp.NewRelyingPartyOIDC(t.Context(), e.c.issuer, rpID, rpSecret, rpRedirect, []string{"openid"})
	if err != nil {
		t.Fatal(err)
	}
	_, challenge := pkcePair()
	b3.rp = rpRedirect
	if o := b3.authorize(relying, challenge, "prompt", "none"); o.callback == nil || o.callback.Query().Get("error") != "login_required" {
		t.Errorf("unlinked address with a broker session, prompt=none: %+v", o)
	}
	if o := b3.authorize(relying, challenge); !o.page {
		t.Error("unlinked address with a broker session got into the application without the policy")
	}

	// Sign out everywhere: every session of alice ends, back-channel logouts go out.
	_, page = b.fetch(http.MethodGet, e.c.issuer+"/account", nil)
	res, page = e.post(t, b, "/account/sessions/end-all", page, url.Values{})
	if !strings.Contains(page, `id="account-signin"`) || b.ssoCookie() != "" {
		t.Errorf("after sign out everywhere: still signed in")
	}
	if list, _ := e.c.admin.store.ListBrokerSessions(t.Context(), alice.Address, nowUTC()); len(list) != 0 {
		t.Errorf("sessions left: %d", len(list))
	}
	if a, _ := e.c.admin.store.ListAudit(t.Context(), store.ListOptions{Query: "account.signout_everywhere"}); len(a.Entries) != 1 || a.Entries[0].Actor != "account:"+alice.Address {
		t.Errorf("sign out everywhere not audited: %+v", a.Entries)
	}

	// Blocked by an admin: the block ends the address's sessions, so the
	// browser is signed out of /account at once.
	page = e.signInToAccount(t, b, alice)
	if _, err := e.c.replicas[0].provision.SetStatus(t.Context(), "admin:test", alice.Address, store.StatusBlocked); err != nil {
		t.Fatal(err)
	}
	if res, page = b.fetch(http.MethodGet, e.c.issuer+"/account", nil); !strings.Contains(page, `id="account-signin"`) {
		t.Errorf("blocking left the browser signed in to /account: %d", res.StatusCode)
	}
	// A session that outlived the block (the mapping changed behind the
	// broker's back) gets the clear "blocked" page, nothing else.
	if _, err := e.c.replicas[0].provision.SetStatus(t.Context(), "admin:test", alice.Address, store.StatusLinked); err != nil {
		t.Fatal(err)
	}
	e.signInToAccount(t, b, alice)
	m, _ := e.c.admin.store.GetMappingByAddress(t.Context(), alice.Address)
	m.Status = store.StatusBlocked
	if _, err := e.c.admin.store.UpdateMapping(t.Context(), m, store.AuditEntry{Actor: "admin:test"}); err != nil {
		t.Fatal(err)
	}
	res, page = b.fetch(http.MethodGet, e.c.issuer+"/account", nil)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(page, `id="blocked"`) || strings.Contains(page, `id="sessions"`) {
		t.Errorf("blocked: %d", res.StatusCode)
	}
	// Unlink is refused when not allowed.
	if _, err := e.c.replicas[0].provision.SetStatus(t.Context(), "admin:test", alice.Address, store.StatusLinked); err != nil {
		t.Fatal(err)
	}
	_, page = b.fetch(http.MethodGet, e.c.issuer+"/account", nil)
	if res, _ := e.post(t, b, "/account/unlink", page, url.Values{"confirm": {"yes"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("unlink without account.allow_unlink: %d", res.StatusCode)
	}
	if _, err := e.c.admin.store.GetMappingByAddress(t.Context(), alice.Address); err != nil {
		t.Error("a refused unlink removed the mapping")
	}
}

func TestAccountUnlinkWhenAllowed(t *testing.T) {
	e := newAccountEnv(t, func(c *config.Config) { c.Account.AllowUnlink = true })
	alice := qortaltest.Accounts(t)["alice"]
	e.c.admin.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address, "nextcloudUserId": "alice"})
	b := newBrowser(t, e.c)
	page := e.signInToAccount(t, b, alice)
	if !strings.Contains(page, `id="unlink"`) {
		t.Fatal("unlink not offered with account.allow_unlink")
	}
	if res, _ := e.post(t, b, "/account/unlink", page, url.Values{}); res.StatusCode != http.StatusBadRequest {
		t.Errorf("unconfirmed unlink: %d", res.StatusCode)
	}
	res, page := e.post(t, b, "/account/unlink", page, url.Values{"confirm": {"yes"}})
	if res.StatusCode != 200 || !strings.Contains(page, "no longer linked") {
		t.Fatalf("unlink: %d %s", res.StatusCode, page)
	}
	if _, err := e.c.admin.store.GetMappingByAddress(t.Context(), alice.Address); err == nil {
		t.Error("the mapping is still there")
	}
	a, _ := e.c.admin.store.ListAudit(t.Context(), store.ListOptions{Query: "mapping.delete"})
	if len(a.Entries) != 1 || a.Entries[0].Actor != "account:"+alice.Address {
		t.Errorf("unlink audit: %+v", a.Entries)
	}
	if b.ssoCookie() != "" {
		t.Error("unlinking left the browser signed in")
	}
}
