package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/oidcprovider"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// browser is a user agent with a cookie jar that stops at every redirect,
// so each hop of a login can be checked.
type browser struct {
	t      *testing.T
	c      *cluster
	client *http.Client
	jar    *cookiejar.Jar
	rp     string // the relying party's redirect URI the callback must lead to
}

func newBrowser(t *testing.T, c *cluster) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: c, jar: jar, rp: rpRedirect, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(u string, headers ...string) *http.Response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func (b *browser) ssoCookie() string {
	u, _ := url.Parse(b.c.issuer)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == oidcprovider.SessionCookie {
			return c.Value
		}
	}
	return ""
}

func (b *browser) setSSOCookie(v string) {
	u, _ := url.Parse(b.c.issuer)
	b.jar.SetCookies(u, []*http.Cookie{{Name: oidcprovider.SessionCookie, Value: v, Path: "/"}})
}

// authorize starts a login at the relying party with extra parameters and
// returns where the broker sends the browser after /authorize and /login:
// signed=false and the login page's auth request id when a signature is
// needed, or the relying party callback URL when the broker finished it.
type ssoOutcome struct {
	page     bool   // the signing page was shown
	id       string // its auth request id
	callback *url.URL
}

func (b *browser) authorize(relying rp.RelyingParty, challenge string, params ...string) ssoOutcome {
	b.t.Helper()
	opts := []rp.AuthURLOpt{rp.WithCodeChallenge(challenge)}
	for i := 0; i+1 < len(params); i += 2 {
		opts = append(opts, rp.AuthURLOpt(rp.WithURLParam(params[i], params[i+1])))
	}
	res := b.get(rp.AuthURL("st4te", relying, opts...))
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || loc == nil || loc.Path != "/login" {
		b.t.Fatalf("authorize: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	id := loc.Query().Get("authRequestID")
	res = b.get(b.c.issuer + loc.RequestURI())
	switch res.StatusCode {
	case http.StatusOK:
		return ssoOutcome{page: true, id: id}
	case http.StatusSeeOther:
		next, _ := url.Parse(res.Header.Get("Location"))
		if strings.HasPrefix(next.String(), rpRedirect) { // an error straight to the relying party
			return ssoOutcome{id: id, callback: next}
		}
		return ssoOutcome{id: id, callback: b.callback(next)}
	}
	b.t.Fatalf("login page: %d", res.StatusCode)
	return ssoOutcome{}
}

// callback checks that a completed login sends the browser straight to the
// relying party's redirect (with the code), not through a broker callback.
func (b *browser) callback(u *url.URL) *url.URL {
	b.t.Helper()
	if u == nil || !strings.HasPrefix(u.String(), b.rp) {
		b.t.Fatalf("the login sent the browser to %s, not the relying party", u)
	}
	return u
}

// sign does what the login page does, in this browser (its cookies).
func (b *browser) sign(id string, acct qortaltest.Account) (*url.URL, *http.Response) {
	b.t.Helper()
	post := func(path, body string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, b.c.issuer+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Mozilla/5.0 (TestOS) SSOTest/1.0")
		res, err := b.client.Do(req)
		if err != nil {
			b.t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		raw, _ := io.ReadAll(res.Body)
		_ = json.Unmarshal(raw, &out)
		return res, out
	}
	res, ch := post("/login/challenge", `{"authRequestId":"`+id+`","qortalAddress":"`+acct.Address+`"}`)
	if res.StatusCode != http.StatusOK {
		b.t.Fatalf("challenge: %d %v", res.StatusCode, ch)
	}
	p := qortal.Sign(acct.PrivateKey, []byte(ch["message"].(string)))
	res, out := post("/login/verify", `{"challengeId":"`+ch["challengeId"].(string)+`","publicKey":"`+p.PublicKey+`","signature":"`+p.Signature+`"}`)
	if res.StatusCode != http.StatusOK {
		b.t.Fatalf("verify: %d %v", res.StatusCode, out)
	}
	next, _ := url.Parse(out["redirectTo"].(string))
	return b.callback(next), res
}

func hashHex(v string) string {
	s := sha256.Sum256([]byte(v))
	return hex.EncodeToString(s[:])
}

// backchannel records logout tokens posted to it.
type backchannel struct {
	mu     sync.Mutex
	tokens []string
	got    chan struct{}
}

func (bc *backchannel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	bc.mu.Lock()
	bc.tokens = append(bc.tokens, r.PostForm.Get("logout_token"))
	bc.mu.Unlock()
	select {
	case bc.got <- struct{}{}:
	default:
	}
}

func (bc *backchannel) count() int {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	return len(bc.tokens)
}

func (bc *backchannel) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		bc.mu.Lock()
		have := len(bc.tokens)
		bc.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-bc.got:
		case <-deadline:
			t.Fatalf("back-channel logouts: %d, want %d", have, n)
		}
	}
}

type ssoEnv struct {
	c       *cluster
	relying rp.RelyingParty
	verify  string
	chall   string
	bc      *backchannel
	alice   qortaltest.Account
}

func newSSOEnv(t *testing.T, kind storetest.Kind) *ssoEnv {
	t.Helper()
	accts := qortaltest.Accounts(t)
	bc := &backchannel{got: make(chan struct{}, 16)}
	bcSrv := httptest.NewServer(bc)
	t.Cleanup(bcSrv.Close)
	nc := newFakeNextcloud(t)
	c := newCluster(t, storetest.Shared(t, kind), nc, 2, "ES256", func(cfg *config.Config) {
		cfg.OIDC.Clients[0].BackchannelLogoutURI = bcSrv.URL + "/backchannel"
		cfg.OIDC.Clients[0].PostLogoutRedirectURIs = []string{"https://cloud.example.org/"}
	})
	e := &ssoEnv{c: c, bc: bc, alice: accts["alice"]}
	if r := c.admin.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": e.alice.Address, "nextcloudUserId": "alice"}); r.Status != http.StatusCreated {
		t.Fatalf("provision: %d %s", r.Status, r.Raw)
	}
	var err error
	e.relying, err = rp.NewRelyingPartyOIDC(context.Background(), c.issuer, rpID, rpSecret, rpRedirect, []string{"openid"},
		rp.WithVerifierOpts(rp.WithNonce(func(context.Context) string { return "" })))
	if err != nil {
		t.Fatal(err)
	}
	e.verify, e.chall = pkcePair()
	return e
}

func (e *ssoEnv) exchange(t *testing.T, cb *url.URL) *oidc.Tokens[*oidc.IDTokenClaims] {
	t.Helper()
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](context.Background(), cb.Query().Get("code"), e.relying, rp.WithCodeVerifier(e.verify))
	if err != nil {
		t.Fatalf("code exchange: %v (callback %s)", err, cb)
	}
	return tokens
}

// TestBrokerSessionSingleSignOn: one signature, then further logins in the
// same browser skip it, on any replica; prompt and max_age force one.
func TestBrokerSessionSingleSignOn(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			e := newSSOEnv(t, kind)
			b := newBrowser(t, e.c)

			first := b.authorize(e.relying, e.chall)
			if !first.page {
				t.Fatal("a browser without a session got in without signing")
			}
			cb, res := b.sign(first.id, e.alice)
			var cookie *http.Cookie
			for _, c := range res.Cookies() {
				if c.Name == oidcprovider.SessionCookie {
					cookie = c
				}
			}
			if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Secure || cookie.Path != "/" ||
				cookie.MaxAge < int((11*time.Hour).Seconds()) || cookie.MaxAge > int((12*time.Hour).Seconds()) {
				t.Fatalf("session cookie = %+v: want HttpOnly, SameSite=Lax, Path=/, not Secure on http, 12h", cookie)
			}
			// The store holds only the token's hash.
			bs, err := e.c.admin.store.GetBrokerSessionByToken(t.Context(), hashHex(cookie.Value))
			if err != nil || bs.QortalAddress != e.alice.Address || bs.TokenHash == cookie.Value || bs.UserAgent != "Mozilla/5.0 (TestOS) SSOTest/1.0" {
				t.Fatalf("stored session = %+v, %v", bs, err)
			}
			firstTokens := e.exchange(t, cb)

			// Second login (other replica, by the round robin): no signature.
			second := b.authorize(e.relying, e.chall)
			if second.page || second.callback == nil {
				t.Fatal("a live broker session still asked for a signature")
			}
			tokens := e.exchange(t, second.callback)
			if tokens.IDTokenClaims.Subject != "alice" || !tokens.IDTokenClaims.AuthTime.AsTime().Equal(firstTokens.IDTokenClaims.AuthTime.AsTime()) {
				t.Errorf("SSO ID token sub %q auth_time %v: want alice and the first signature's time %v", tokens.IDTokenClaims.Subject,
					tokens.IDTokenClaims.AuthTime.AsTime(), firstTokens.IDTokenClaims.AuthTime.AsTime())
			}
			if tokens.IDTokenClaims.SessionID == firstTokens.IDTokenClaims.SessionID {
				t.Error("each relying party login has its own sid")
			}

			// prompt=none with the session: the code, silently.
			silent := b.authorize(e.relying, e.chall, "prompt", "none")
			if silent.page || silent.callback.Query().Get("code") == "" {
				t.Fatalf("prompt=none with a session: %+v", silent)
			}
			// max_age larger than the session's age: no signature.
			if o := b.authorize(e.relying, e.chall, "max_age", "3600"); o.page {
				t.Error("max_age=3600 forced a signature an instant after signing")
			}
			// prompt=login and max_age=0 force one; prompt=none after
			// max_age=0 cannot be silent.
			if o := b.authorize(e.relying, e.chall, "prompt", "login"); !o.page {
				t.Error("prompt=login did not ask for a signature")
			}
			if o := b.authorize(e.relying, e.chall, "max_age", "0"); !o.page {
				t.Error("max_age=0 did not ask for a signature")
			}
			time.Sleep(1100 * time.Millisecond)
			o := b.authorize(e.relying, e.chall, "max_age", "1")
			if !o.page {
				t.Fatal("max_age=1 on a session signed over a second ago did not ask for a signature")
			}
			// Signing again rotates the token and renews auth_time.
			old := b.ssoCookie()
			cb, _ = b.sign(o.id, e.alice)
			if now := b.ssoCookie(); now == "" || now == old {
				t.Error("a new signature did not rotate the session token")
			}
			if _, err := e.c.admin.store.GetBrokerSessionByToken(t.Context(), hashHex(old)); err == nil {
				t.Error("the replaced session's token still works")
			}
			renewed := e.exchange(t, cb)
			if !renewed.IDTokenClaims.AuthTime.AsTime().After(firstTokens.IDTokenClaims.AuthTime.AsTime()) {
				t.Error("auth_time did not move to the new signature")
			}
			if list, _ := e.c.admin.store.ListBrokerSessions(t.Context(), e.alice.Address, time.Now()); len(list) != 1 {
				t.Errorf("broker sessions after re-signing = %d, want 1 (replaced, not added)", len(list))
			}

			// Another browser has no session: prompt=none answers login_required.
			other := newBrowser(t, e.c)
			none := other.authorize(e.relying, e.chall, "prompt", "none")
			if none.page || none.callback.Query().Get("error") != "login_required" || none.callback.Query().Get("state") != "st4te" {
				t.Fatalf("prompt=none without a session: %+v", none.callback)
			}
		})
	}
}

// TestBrokerSessionBadCookies: a forged, expired or revoked cookie is a
// fresh sign-in, never an error page.
func TestBrokerSessionBadCookies(t *testing.T) {
	e := newSSOEnv(t, storetest.SQLite)
	b := newBrowser(t, e.c)
	for name, v := range map[string]string{
		"forged":    strings.Repeat("A", 43),
		"malformed": "not-a-token",
		"empty":     "",
	} {
		b.setSSOCookie(v)
		if o := b.authorize(e.relying, e.chall); !o.page {
			t.Errorf("%s cookie: no signature asked", name)
		}
	}
	// An expired session (written straight to the store, as another
	// replica long ago would have).
	now := time.Now()
	token := strings.Repeat("x", 43)
	if err := e.c.admin.store.CreateAuthRequest(t.Context(), store.AuthRequest{ID: "ar_old", ClientID: rpID, RedirectURI: rpRedirect,
		ResponseType: "code", CreatedAt: now.Add(-14 * time.Hour), ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.admin.store.CompleteAuthRequest(t.Context(), "ar_old", store.AuthCompletion{Subject: "alice", QortalAddress: e.alice.Address,
		AuthTime: now.Add(-13 * time.Hour), AMR: []string{"hwk"}, SessionID: "sid-old", SessionExpiresAt: now.Add(time.Hour),
		NewBrokerSession: &store.BrokerSession{ID: "bs_old", TokenHash: hashHex(token), QortalAddress: e.alice.Address,
			AuthTime: now.Add(-13 * time.Hour), CreatedAt: now.Add(-13 * time.Hour), LastSeenAt: now.Add(-13 * time.Hour), ExpiresAt: now.Add(-time.Hour)},
	}, now); err != nil {
		t.Fatal(err)
	}
	b.setSSOCookie(token)
	if o := b.authorize(e.relying, e.chall); !o.page {
		t.Error("expired session: no signature asked")
	}
	if o := b.authorize(e.relying, e.chall, "prompt", "none"); o.callback.Query().Get("error") != "login_required" {
		t.Errorf("expired session with prompt=none: %s", o.callback)
	}
}

// TestBrokerSessionEnds: end_session, sign-out everywhere (what block and
// unlink call), block and unlink each stop the session from logging in,
// and the relying parties hear of it over the back channel.
func TestBrokerSessionEnds(t *testing.T) {
	e := newSSOEnv(t, storetest.SQLite)
	login := func(b *browser) *oidc.Tokens[*oidc.IDTokenClaims] {
		t.Helper()
		o := b.authorize(e.relying, e.chall)
		if !o.page {
			return e.exchange(t, o.callback)
		}
		cb, _ := b.sign(o.id, e.alice)
		return e.exchange(t, cb)
	}

	t.Run("end_session", func(t *testing.T) {
		b := newBrowser(t, e.c)
		login(b)
		tokens := login(b) // SSO: a second relying party session from the same broker session
		before := e.bc.count()
		q := url.Values{"id_token_hint": {tokens.IDToken}, "post_logout_redirect_uri": {"https://cloud.example.org/"}}
		res := b.get(e.c.issuer+"/end_session?"+q.Encode(), "Sec-Fetch-Site", "cross-site")
		if res.StatusCode != http.StatusFound {
			t.Fatalf("end_session: %d", res.StatusCode)
		}
		if b.ssoCookie() != "" {
			t.Error("end_session did not clear the session cookie")
		}
		if o := b.authorize(e.relying, e.chall); !o.page {
			t.Error("after end_session a login went through without a signature")
		}
		// The other relying party session of the broker session hears of it;
		// the one the relying party is ending itself does not (it knows, and
		// user_oidc would answer HTTP 400: issue 7 item 10).
		e.bc.wait(t, before+1)
		time.Sleep(300 * time.Millisecond)
		if n := e.bc.count(); n != before+1 {
			t.Errorf("back-channel logouts: %d, want %d (none for the session the relying party ended)", n-before, 1)
		}
	})

	t.Run("cross-site end_session without a hint keeps the session", func(t *testing.T) {
		b := newBrowser(t, e.c)
		login(b)
		b.get(e.c.issuer+"/end_session", "Sec-Fetch-Site", "cross-site")
		if o := b.authorize(e.relying, e.chall); o.page {
			t.Error("a bare cross-site link to /end_session signed the browser out of the broker")
		}
	})

	t.Run("sign out everywhere", func(t *testing.T) {
		b1, b2 := newBrowser(t, e.c), newBrowser(t, e.c)
		login(b1)
		t2 := login(b2)
		before := e.bc.count()
		n, err := e.c.replicas[1].oidc.EndSessionsForAddress(t.Context(), e.alice.Address, "test")
		if err != nil || n < 2 {
			t.Fatalf("EndSessionsForAddress = %d, %v", n, err)
		}
		for i, b := range []*browser{b1, b2} {
			if o := b.authorize(e.relying, e.chall); !o.page {
				t.Errorf("browser %d still signed in after sign-out everywhere", i+1)
			}
		}
		if _, err := rp.Userinfo[*oidc.UserInfo](context.Background(), t2.AccessToken, "Bearer", "alice", e.relying); err == nil {
			t.Error("an access token of an ended session still works")
		}
		e.bc.wait(t, before+n)
	})

	t.Run("block", func(t *testing.T) {
		b := newBrowser(t, e.c)
		login(b)
		if _, err := e.c.replicas[0].provision.SetStatus(t.Context(), "admin:test", e.alice.Address, store.StatusBlocked); err != nil {
			t.Fatal(err)
		}
		if o := b.authorize(e.relying, e.chall); !o.page {
			t.Error("a blocked address logged in from its broker session")
		}
		if o := b.authorize(e.relying, e.chall, "prompt", "none"); o.callback.Query().Get("error") != "login_required" {
			t.Errorf("blocked, prompt=none: %s", o.callback)
		}
		if _, err := e.c.replicas[0].provision.SetStatus(t.Context(), "admin:test", e.alice.Address, store.StatusLinked); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("unlink", func(t *testing.T) {
		b := newBrowser(t, e.c)
		login(b)
		if r := e.c.admin.do("DELETE", "/api/provision/mapping/"+e.alice.Address, nil); r.Status != http.StatusOK {
			t.Fatalf("unlink: %d %s", r.Status, r.Raw)
		}
		if o := b.authorize(e.relying, e.chall); !o.page {
			t.Error("an unlinked address logged in from its broker session")
		}
	})
}

func newBackchannelServer(t *testing.T, bc *backchannel) string {
	srv := httptest.NewServer(bc)
	t.Cleanup(srv.Close)
	return srv.URL
}

func nowUTC() time.Time { return time.Now().UTC() }

// TestOnboardingOpensTheBrokerSession: the signature that links an address
// through an invite also signs the browser in, so the Nextcloud login it
// is sent on to (nextcloud.login_url) completes without a second
// signature, on any replica, as the invited account.
func TestOnboardingOpensTheBrokerSession(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			const loginURL = "https://cloud.example.org/index.php/apps/user_oidc/login/7"
			nc := newFakeNextcloud(t)
			nc.AddUser(ocsfake.User{ID: "mona", DisplayName: "Mona"})
			c := newCluster(t, storetest.Shared(t, kind), nc, 2, "ES256", func(cfg *config.Config) { cfg.Nextcloud.LoginURL = loginURL })
			r := c.admin.do("POST", "/api/invites", map[string]string{"nextcloudUserId": "mona"})
			token, _ := r.Body["token"].(string)
			if r.Status != http.StatusCreated || token == "" {
				t.Fatalf("invite: %d %s", r.Status, r.Raw)
			}
			relying, err := rp.NewRelyingPartyOIDC(context.Background(), c.issuer, rpID, rpSecret, rpRedirect, []string{"openid"},
				rp.WithVerifierOpts(rp.WithNonce(func(context.Context) string { return "" })))
			if err != nil {
				t.Fatal(err)
			}
			verifier, challenge := pkcePair()
			b := newBrowser(t, c)
			post := func(path string, body map[string]string) (*http.Response, map[string]any) {
				j, _ := json.Marshal(body)
				req, _ := http.NewRequest(http.MethodPost, c.issuer+path, strings.NewReader(string(j)))
				req.Header.Set("Content-Type", "application/json")
				res, err := b.client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var out map[string]any
				raw, _ := io.ReadAll(res.Body)
				_ = json.Unmarshal(raw, &out)
				return res, out
			}
			mona := qortaltest.Accounts(t)["alice"]
			res, ch := post("/onboard/challenge", map[string]string{"inviteToken": token, "qortalAddress": mona.Address})
			if res.StatusCode != http.StatusOK {
				t.Fatalf("challenge: %d %v", res.StatusCode, ch)
			}
			p := qortal.Sign(mona.PrivateKey, []byte(ch["message"].(string)))
			res, out := post("/onboard/verify", map[string]string{"challengeId": ch["challengeId"].(string), "inviteToken": token,
				"publicKey": p.PublicKey, "signature": p.Signature})
			if res.StatusCode != http.StatusOK || out["redirectTo"] != loginURL {
				t.Fatalf("verify: %d %v; want redirectTo %s", res.StatusCode, out, loginURL)
			}
			if b.ssoCookie() == "" {
				t.Fatal("the invite's signature opened no broker session")
			}
			bs, err := c.admin.store.GetBrokerSessionByToken(t.Context(), hashHex(b.ssoCookie()))
			if err != nil || bs.QortalAddress != mona.Address {
				t.Fatalf("stored session = %+v, %v", bs, err)
			}

			// What user_oidc's login link starts: no signing page, and the
			// ID token is the invited account's.
			o := b.authorize(relying, challenge)
			if o.page || o.callback == nil {
				t.Fatal("after onboarding, the login asked for a second signature")
			}
			tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](context.Background(), o.callback.Query().Get("code"), relying, rp.WithCodeVerifier(verifier))
			if err != nil {
				t.Fatalf("code exchange: %v", err)
			}
			if got := tokens.IDTokenClaims; got.Subject != "mona" || !got.AuthTime.AsTime().Equal(bs.AuthTime.Truncate(time.Second)) {
				t.Errorf("ID token sub %q auth_time %v: want mona and the invite's signature time %v", got.Subject, got.AuthTime.AsTime(), bs.AuthTime)
			}

			// Another browser, which only opened the link, is not signed in.
			if o := newBrowser(t, c).authorize(relying, challenge); !o.page {
				t.Error("a browser that did not sign got in")
			}
		})
	}
}
