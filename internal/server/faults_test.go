package server

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/pgtest"
	"github.com/qortal-oidc/qortal-oidc/internal/store/postgres"
	"github.com/qortal-oidc/qortal-oidc/internal/store/sqlite"
)

// pending is login state taken at every stage, so the outage can be met at
// each endpoint with a request that would otherwise succeed.
type pending struct {
	authorizeState string
	authRequestID  string       // authorized, not signed
	callback       string       // signed, callback not followed
	code           string       // issued, not exchanged
	tokens         tokens       // exchanged
	acct           loginAccount // linked
}

func preparePending(t *testing.T, c *client, acct loginAccount) pending {
	t.Helper()
	var tl tally
	p := pending{acct: acct, authorizeState: "s-pending"}
	tr, ok := c.login(&tl, acct, "s-full")
	if !ok {
		t.Fatalf("login before the outage: %s %v", tl.String(), tl.wrong)
	}
	p.tokens = tr.tokens
	// A code issued but not yet exchanged, and a signed form_post login
	// whose callback (the page that posts the code) has not been fetched.
	for _, stage := range []string{"code", "callback", "authorized"} {
		path := authorizePath("s-" + stage)
		if stage == "callback" {
			path += "&response_mode=form_post"
		}
		a := c.get("authorize", path)
		id := a.location().Query().Get("authRequestID")
		if stage == "authorized" {
			p.authRequestID = id
			continue
		}
		a = c.postJSON("challenge", "/login/challenge", map[string]any{"authRequestId": id, "qortalAddress": acct.Address})
		msg, _ := a.json["message"].(string)
		sig := signFor(acct, msg)
		a = c.postJSON("verify", "/login/verify", map[string]any{"challengeId": a.json["challengeId"], "publicKey": sig[0], "signature": sig[1]})
		redirect, _ := a.json["redirectTo"].(string)
		u, err := url.Parse(redirect)
		if err != nil || redirect == "" {
			t.Fatalf("verify: %s", a)
		}
		if stage == "callback" {
			if !strings.HasPrefix(u.Path, "/authorize/callback") {
				t.Fatalf("a form_post login was sent to %s, not the callback", redirect)
			}
			p.callback = u.RequestURI()
			continue
		}
		if p.code = u.Query().Get("code"); p.code == "" {
			t.Fatalf("verify sent no code: %s", a)
		}
	}
	return p
}

// expectOutage fails unless a is the documented outage answer.
func expectOutage(t *testing.T, a answer) {
	t.Helper()
	if a.classify() != outageAnswer {
		t.Errorf("during the outage: %s", a)
	}
	if strings.Contains(a.body, "store unavailable") || strings.Contains(a.body, "dial tcp") || strings.Contains(a.body, "SQLSTATE") {
		t.Errorf("the answer leaks the internal error: %s", a)
	}
}

// meetOutage calls every endpoint with a request that would succeed if the
// store were up, and checks each answers as the README's failure table says.
func meetOutage(t *testing.T, c *client, p pending, writesOnly bool) {
	t.Helper()
	// /authorize writes nothing (the request is sealed into its id): with
	// the client in the replica's cache (10 s) it needs no store and sends
	// the browser to the login page; past that, the outage answer.
	a := c.get("authorize", authorizePath(p.authorizeState))
	if loc := a.location(); a.status == http.StatusFound && loc != nil && loc.Path == "/login" {
		if id := loc.Query().Get("authRequestID"); !strings.HasPrefix(id, "ars1_") {
			t.Errorf("authorize during the outage sent a login without a sealed request: %s", a)
		}
	} else {
		expectOutage(t, a)
		if a.status == http.StatusFound && a.location().Query().Get("state") != p.authorizeState {
			t.Errorf("authorize error redirect lost the state: %s", a)
		}
	}
	// The login page and issuing a challenge need no store at all for a
	// request this replica created (its pending copy, oidcprovider/
	// pending.go; the challenge is sealed): they work through any outage.
	// The callback only reads (the code was stored when the login
	// completed): with the embedded store's write lock held elsewhere it
	// still works.
	if lp := c.get("login page", "/login?authRequestID="+url.QueryEscape(p.authRequestID)); lp.status != http.StatusOK {
		t.Errorf("login page of a pending request during the outage: %s", lp)
	}
	a = c.postJSON("challenge", "/login/challenge", map[string]any{"authRequestId": p.authRequestID, "qortalAddress": p.acct.Address})
	if a.status != http.StatusOK {
		t.Errorf("challenge for a pending request during the outage: %s", a)
	}
	cb := c.get("callback", p.callback)
	if writesOnly {
		if cb.status != http.StatusOK || formPostCode(cb) == "" {
			t.Errorf("callback while only writes fail: %s", cb)
		}
	} else {
		expectOutage(t, cb)
	}
	expectOutage(t, func() answer { _, a := c.exchangeAnswer(p.code); return a }())
	expectOutage(t, c.refresh(p.tokens.Refresh))
	if !writesOnly {
		expectOutage(t, c.userinfo(p.tokens.Access))
		expectOutage(t, c.introspect(p.tokens.Access))
		expectOutage(t, c.get("readyz", "/readyz"))
	}
	other := newAccounts(t, 1)[0]
	expectOutage(t, c.provision(other, "outage-user"))
}

func (c *client) exchangeAnswer(code string) (tokens, answer) {
	verifier, _ := pkcePair()
	a := c.postForm("token", "/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {rpRedirect}, "code_verifier": {verifier}})
	return tokensOf(a), a
}

// afterOutage checks nothing the outage met was lost or half-done: the
// pending code, callback and tokens still work once, and logins succeed.
func afterOutage(t *testing.T, c *client, p pending) {
	t.Helper()
	if a := c.userinfo(p.tokens.Access); a.status != http.StatusOK {
		t.Errorf("userinfo with a token from before the outage: %s", a)
	}
	tk, a := c.exchangeAnswer(p.code)
	if a.status != http.StatusOK || tk.Access == "" {
		t.Errorf("a code issued before the outage: %s", a)
	}
	if _, a := c.exchangeAnswer(p.code); a.status == http.StatusOK {
		t.Errorf("the code was exchanged twice")
	}
	a = c.get("callback", p.callback)
	if a.status != http.StatusOK || formPostCode(a) == "" {
		t.Errorf("callback after the outage: %s", a)
	}
	if a := c.refresh(p.tokens.Refresh); a.status != http.StatusOK {
		t.Errorf("refresh after the outage: %s", a)
	}
	var tl tally
	if _, ok := c.login(&tl, p.acct, "s-after"); !ok {
		t.Errorf("login after the outage: %s %v", tl.String(), tl.wrong)
	}
}

var formPostCodeField = regexp.MustCompile(`name="code" value="([^"]+)"`)

// formPostCode is the code on a form_post callback page.
func formPostCode(a answer) string {
	if m := formPostCodeField.FindStringSubmatch(a.body); m != nil {
		return m[1]
	}
	return ""
}

func signFor(acct loginAccount, msg string) [2]string {
	p := qortal.Sign(acct.Key, []byte(msg))
	return [2]string{p.PublicKey, p.Signature}
}

// rawSQLite is a second connection to the embedded store's file, as another
// process would open it.
func rawSQLite(t *testing.T, dir string) *sql.DB {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName)+"?_pragma=busy_timeout(100)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestPostgresOutageAnswersOnEveryEndpoint stops a real Postgres under a
// running broker: every endpoint answers 503 with Retry-After (JSON in the
// OAuth or API shape, a page for browsers) or redirects to the relying
// party with error=temporarily_unavailable; never 400 or 500. After the
// restart, nothing the outage met is lost.
func TestPostgresOutageAnswersOnEveryEndpoint(t *testing.T) {
	pg := pgtest.StartServer(t)
	st, err := postgres.Open(context.Background(), pg.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	nc := newFakeNextcloud(t)
	fb := newFaultBroker(t, nc, []store.Store{st})
	c := newClient(fb.issuer)
	acct := newAccounts(t, 1)[0]
	if a := c.provision(acct, "alice"); a.status != http.StatusCreated {
		t.Fatalf("provision: %s", a)
	}
	p := preparePending(t, c, acct)

	pg.Stop("fast")
	meetOutage(t, c, p, false)
	pg.Start()
	up := time.Now()
	for c.get("readyz", "/readyz").status != http.StatusOK {
		if time.Since(up) > 2*time.Second {
			t.Fatal("not ready 2 s after Postgres accepts connections")
		}
		time.Sleep(20 * time.Millisecond)
	}
	afterOutage(t, c, p)
}

// TestEmbeddedStoreLockedAnswers503 holds the SQLite write lock from another
// connection (as another process would) beyond the busy timeout: writes
// answer 503, reads keep working, and everything resumes when it is let go.
func TestEmbeddedStoreLockedAnswers503(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlite.OpenWith(context.Background(), dir, sqlite.Options{BusyTimeout: 200 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	nc := newFakeNextcloud(t)
	fb := newFaultBroker(t, nc, []store.Store{st})
	c := newClient(fb.issuer)
	acct := newAccounts(t, 1)[0]
	if a := c.provision(acct, "alice"); a.status != http.StatusCreated {
		t.Fatalf("provision: %s", a)
	}
	p := preparePending(t, c, acct)

	conn, err := rawSQLite(t, dir).Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	meetOutage(t, c, p, true)
	if a := c.userinfo(p.tokens.Access); a.status != http.StatusOK {
		t.Errorf("reads must not wait for the write lock: %s", a)
	}
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	afterOutage(t, c, p)
}

// TestEmbeddedStoreFullAnswers503 fills the database to its size cap (as a
// full disk does): writes that need room answer 503, never 500; nothing
// half-written is left, and the file is intact and usable once there is
// room again.
func TestEmbeddedStoreFullAnswers503(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	raw := rawSQLite(t, dir)
	var pages int
	if err := raw.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	full, err := sqlite.OpenWith(context.Background(), dir, sqlite.Options{MaxPages: pages + 8}, nil)
	if err != nil {
		t.Fatal(err)
	}
	nc := newFakeNextcloud(t)
	fb := newFaultBroker(t, nc, []store.Store{full})
	c := newClient(fb.issuer)

	// Fill it with provisioning and logins until both are refused.
	var tl tally
	linked := map[string]string{}
	var provisionFull, loginFull bool
	for i := 0; i < 3000 && !(provisionFull && loginFull); i++ {
		acct := newAccounts(t, 1)[0]
		user := "fill" + strconv.Itoa(i)
		a := c.provision(acct, user)
		switch tl.add(a) {
		case outageAnswer:
			provisionFull = true
			continue
		case okAnswer:
			linked[acct.Address] = user
		}
		if a.classify() == okAnswer {
			if _, ok := c.login(&tl, acct, "s"+strconv.Itoa(i)); !ok {
				loginFull = true
			}
		}
	}
	if tl.wrongCount() > 0 {
		t.Fatalf("answers while the database filled: %s\n%v", tl.String(), tl.wrong)
	}
	if !provisionFull || !loginFull {
		t.Fatalf("the database never filled up: %s", tl.String())
	}
	t.Logf("filling the database: %s", tl.String())
	full.Close()

	var check string
	if err := raw.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	roomy, err := sqlite.Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { roomy.Close() })
	fb.replicas[0], err = NewWithStore(context.Background(), faultConfig(nc.URL(), fb.issuer), discardLog(), roomy)
	if err != nil {
		t.Fatal(err)
	}
	// Exactly the provisionings that were answered 201 are there.
	counts, err := roomy.CountMappings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := counts[store.StatusLinked]; n != len(linked) {
		t.Errorf("%d linked mappings, want the %d answered 201", n, len(linked))
	}
	for addr, user := range linked {
		if m, err := roomy.GetMappingByAddress(context.Background(), addr); err != nil || m.NextcloudUserID != user {
			t.Errorf("mapping %s: %+v %v", addr, m, err)
		}
	}
	acct := newAccounts(t, 1)[0]
	if a := c.provision(acct, "after"); a.status != http.StatusCreated {
		t.Fatalf("provision with room again: %s", a)
	}
	var after tally
	if _, ok := c.login(&after, acct, "s-after"); !ok {
		t.Errorf("login with room again: %s %v", after.String(), after.wrong)
	}
}

// TestRateLimitsHoldAcrossReplicas: two replicas on one Postgres give one
// budget for every limit, not one each.
func TestRateLimitsHoldAcrossReplicas(t *testing.T) {
	pg := pgtest.StartServer(t)
	var stores []store.Store
	for i := 0; i < 2; i++ {
		st, err := postgres.Open(context.Background(), pg.URL(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
	}
	nc := newFakeNextcloud(t)
	const perIP, perAddr, perAuthorize = 6, 4, 5
	fb := newFaultBroker(t, nc, stores, func(c *configT) {
		c.Login.TrustProxyHeaders = true
		c.Login.RateLimit.PerIPPerMinute, c.Login.RateLimit.PerAddressPerMinute, c.Login.RateLimit.AuthorizePerIPPerMinute = perIP, perAddr, perAuthorize
	})
	c := newClient(fb.issuer)
	acct := newAccounts(t, 1)[0]
	if a := c.provision(acct, "alice"); a.status != http.StatusCreated {
		t.Fatalf("provision: %s", a)
	}
	// count runs n requests, alternating replicas, and counts those let through.
	count := func(n int, req func(i int) answer) (passed int) {
		for i := 0; i < n; i++ {
			a := req(i)
			switch {
			case a.status == http.StatusTooManyRequests && a.header.Get("Retry-After") != "":
			case a.status == http.StatusTooManyRequests:
				t.Errorf("429 without Retry-After: %s", a)
			default:
				passed++
			}
		}
		return passed
	}
	if n := count(2*perAuthorize, func(int) answer { return c.get("authorize", authorizePath("s")) }); n != perAuthorize {
		t.Errorf("/authorize let %d through two replicas, want %d", n, perAuthorize)
	}
	// Per IP: a new address each time. Per address: a new client IP each
	// time (the replicas trust X-Forwarded-For here), one address.
	if n := count(2*perIP, func(int) answer {
		return c.postJSON("challenge", "/login/challenge", map[string]any{"authRequestId": "ar_unknown", "qortalAddress": newAccounts(t, 1)[0].Address},
			"X-Forwarded-For", "10.0.0.1")
	}); n != perIP {
		t.Errorf("/login/challenge let %d through two replicas from one IP, want %d", n, perIP)
	}
	// Per address only failed proofs count (issue 7): wrong signatures for
	// one address's challenge, each from its own IP.
	id := c.get("authorize", authorizePath("s-addr"), "X-Forwarded-For", "10.2.0.1").location().Query().Get("authRequestID")
	ch := c.postJSON("challenge", "/login/challenge", map[string]any{"authRequestId": id, "qortalAddress": acct.Address}, "X-Forwarded-For", "10.2.0.1")
	if ch.status != http.StatusOK {
		t.Fatalf("challenge: %s", ch)
	}
	wrong := signFor(newAccounts(t, 1)[0], "not the challenge")
	if n := count(2*perAddr, func(i int) answer {
		return c.postJSON("verify", "/login/verify", map[string]any{"challengeId": ch.json["challengeId"], "publicKey": wrong[0], "signature": wrong[1]},
			"X-Forwarded-For", "10.1.0."+strconv.Itoa(i+1))
	}); n != perAddr {
		t.Errorf("/login/verify answered %d failed proofs for one address through two replicas before 429, want %d", n, perAddr)
	}
	bad := func(int) answer {
		return c.postJSON("admin", "/api/provision/mappings", nil, "Authorization", "Bearer wrong-token-0123456789")
	}
	if n := count(45, bad); n != 20 {
		t.Errorf("failed admin credentials let through: %d of 45 across two replicas, want 20", n)
	}
}
