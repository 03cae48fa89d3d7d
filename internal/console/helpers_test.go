package console

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/clocktest"
	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/invite"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/onboarding"
	"github.com/qortal-oidc/qortal-oidc/internal/policy"
	"github.com/qortal-oidc/qortal-oidc/internal/provision"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// env is a console on a real SQLite store and the project's fake Nextcloud,
// served over loopback HTTP. alice is an administrator, bob is not.
type env struct {
	t     *testing.T
	clk   *clocktest.Clock
	store store.Store
	nc    *ocsfake.Server
	srv   *httptest.Server
	h     *Handler
	cfg   config.Config
	accts map[string]qortaltest.Account
}

func newEnv(t *testing.T) *env {
	t.Helper()
	accts := qortaltest.Accounts(t)
	st := storetest.Open(t, storetest.SQLite)
	fake := ocsfake.New()
	t.Cleanup(fake.Close)
	fake.AddAccount("admin", "app-password-0123456789", true)
	for _, u := range []ocsfake.User{
		{ID: "carol", DisplayName: "Carol Example", Email: "carol@example.org", Groups: []string{"staff"}},
		{ID: "dave", DisplayName: "Dave Example", Email: "dave@example.org", Groups: []string{"staff"}},
		{ID: "erin", DisplayName: "Erin Example", Email: "erin@example.org"},
	} {
		fake.AddUser(u)
	}
	nc, err := nextcloud.New(nextcloud.Config{BaseURL: fake.URL(), User: "admin", AppPassword: "app-password-0123456789", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}

	r := mux.NewRouter()
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	cfg := config.Default()
	cfg.Issuer = srv.URL
	cfg.Admin.Addresses = []string{accts["alice"].Address}
	cfg.Nextcloud.URL = fake.URL()
	clk := clocktest.New(time.Now().UTC().Truncate(time.Second))

	prov := provision.New(cfg, provision.Deps{Store: st, Nextcloud: nc, Now: clk.Now})
	inv := invite.New(cfg, invite.Deps{Store: st, Users: nc, Now: clk.Now})
	pol := policy.New(cfg, policy.Deps{Store: st, Provisioner: prov, Invites: inv, Now: clk.Now})
	onb := onboarding.New(cfg, onboarding.Deps{Store: st, Directory: nc, Invites: inv, Now: clk.Now})
	h, err := New(cfg, Deps{Store: st, Provision: prov, Policy: pol, Invites: inv, Onboarding: onb, Nextcloud: nc, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	h.Register(r)
	return &env{t: t, clk: clk, store: st, nc: fake, srv: srv, h: h, cfg: cfg, accts: accts}
}

// browser is a cookie-keeping client that does not follow redirects and
// sends the Origin a browser would.
type browser struct {
	e      *env
	c      *http.Client
	origin string // "" sends none
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, origin: e.srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (b *browser) do(method, path string, form url.Values) page {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method == http.MethodPost && b.origin != "" {
		req.Header.Set("Origin", b.origin)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, body: string(raw), location: resp.Header.Get("Location"), header: resp.Header}
}

func (b *browser) get(path string) page { return b.do(http.MethodGet, path, nil) }

// post submits a form with the CSRF token of the page it came from.
func (b *browser) post(path string, from page, form url.Values) page {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", csrfOf(b.e.t, from))
	}
	return b.do(http.MethodPost, path, form)
}

var (
	csrfRE      = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	challengeRE = regexp.MustCompile(`name="challengeId" id="challenge-id" value="([^"]+)"`)
	messageRE   = regexp.MustCompile(`(?s)<pre class="message" id="message"[^>]*>(.*?)</pre>`)
	flashRE     = regexp.MustCompile(`(?s)id="flash">(.*?)</div>`)
	errorRE     = regexp.MustCompile(`(?s)id="error">(.*?)(?: <code|</div>)`)
)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("page (status %d) has no CSRF token:\n%s", p.status, p.body)
	}
	return html.UnescapeString(m[1])
}

func find(t *testing.T, re *regexp.Regexp, p page, what string) string {
	t.Helper()
	m := re.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("page (status %d) has no %s:\n%s", p.status, what, p.body)
	}
	return html.UnescapeString(m[1])
}

// challenge starts a sign-in for a and returns the sign page.
func (b *browser) challenge(a qortaltest.Account) page {
	b.e.t.Helper()
	start := b.get("/admin/signin")
	if start.status != http.StatusOK {
		b.e.t.Fatalf("GET /admin/signin = %d", start.status)
	}
	p := b.post("/admin/signin", start, url.Values{"address": {a.Address}})
	if p.status != http.StatusOK {
		b.e.t.Fatalf("POST /admin/signin = %d:\n%s", p.status, p.body)
	}
	return p
}

// signed returns the verify form for the sign page, signed with a's key.
func (b *browser) signed(a qortaltest.Account, sign page) url.Values {
	b.e.t.Helper()
	msg := find(b.e.t, messageRE, sign, "message")
	proof := qortal.Sign(a.PrivateKey, []byte(msg))
	return url.Values{
		"csrf":        {csrfOf(b.e.t, sign)},
		"challengeId": {find(b.e.t, challengeRE, sign, "challenge id")},
		"publicKey":   {proof.PublicKey},
		"signature":   {proof.Signature},
	}
}

// signIn signs a in and returns the dashboard.
func (b *browser) signIn(a qortaltest.Account) page {
	b.e.t.Helper()
	sign := b.challenge(a)
	p := b.do(http.MethodPost, "/admin/signin/verify", b.signed(a, sign))
	if p.status != http.StatusSeeOther || p.location != "/admin/" {
		b.e.t.Fatalf("verify = %d to %q, want 303 to /admin/:\n%s", p.status, p.location, p.body)
	}
	d := b.get("/admin/")
	if d.status != http.StatusOK {
		b.e.t.Fatalf("dashboard after sign-in = %d:\n%s", d.status, d.body)
	}
	return d
}

// lastAudit returns the newest audit entry.
func (e *env) lastAudit() store.AuditEntry {
	e.t.Helper()
	p, err := e.store.ListAudit(context.Background(), store.ListOptions{Limit: 1})
	if err != nil || len(p.Entries) == 0 {
		e.t.Fatalf("ListAudit: %v", err)
	}
	return p.Entries[0]
}

var pagerNextRE = regexp.MustCompile(`<a href="([^"]+)" rel="next"`)
