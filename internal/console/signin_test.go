package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
)

func TestSignInAsAdmin(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	alice := e.accts["alice"]

	// Signed out, every page sends the browser to sign in.
	if p := b.get("/admin/mappings"); p.status != http.StatusSeeOther || p.location != "/admin/signin" {
		t.Fatalf("signed-out GET /admin/mappings = %d to %q", p.status, p.location)
	}
	sign := b.challenge(alice)
	msg := find(t, messageRE, sign, "message")
	for _, want := range []string{"Sign in to the qortal-oidc admin console of " + e.srv.URL, alice.Address, "Purpose: admin", "Nonce: ", "Expiration Time: "} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	d := b.do(http.MethodPost, "/admin/signin/verify", b.signed(alice, sign))
	if d.status != http.StatusSeeOther || d.location != "/admin/" {
		t.Fatalf("verify = %d to %q:\n%s", d.status, d.location, d.body)
	}
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: d.header}).Cookies() {
		if c.Name == sessionCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/admin" || cookie.Secure {
		t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Strict, Path=/admin, not Secure on http", cookie)
	}
	dash := b.get("/admin/")
	if dash.status != http.StatusOK || !strings.Contains(dash.body, `title="Signed in as `+alice.Address+`"`) {
		t.Fatalf("dashboard = %d, want the admin's address shown:\n%s", dash.status, dash.body)
	}
	if a := e.lastAudit(); a.Action != "admin.signin" || a.Actor != "admin:"+alice.Address {
		t.Errorf("audit = %+v, want admin.signin by admin:%s", a, alice.Address)
	}
	// The session is stored hashed: the cookie value is nowhere in the store.
	if _, err := e.store.GetConsoleSession(t.Context(), cookie.Value); err == nil {
		t.Error("the raw session token is a store key")
	}
	if _, err := e.store.GetConsoleSession(t.Context(), hashToken(cookie.Value)); err != nil {
		t.Errorf("session not stored under its hash: %v", err)
	}

	// Signing out ends the session in the store, not only in the browser.
	out := b.post("/admin/signout", dash, nil)
	if out.status != http.StatusSeeOther || !strings.HasPrefix(out.location, "/admin/signin") {
		t.Fatalf("signout = %d to %q", out.status, out.location)
	}
	if _, err := e.store.GetConsoleSession(t.Context(), hashToken(cookie.Value)); err == nil {
		t.Error("session still stored after sign-out")
	}
	replay := e.browser()
	replay.c.Jar.SetCookies(mustURL(t, e.srv.URL+"/admin/"), []*http.Cookie{{Name: sessionCookie, Value: cookie.Value, Path: "/admin"}})
	if p := replay.get("/admin/"); p.status != http.StatusSeeOther {
		t.Errorf("old cookie after sign-out = %d, want a redirect to sign in", p.status)
	}
}

func TestSignInWithPastedToolOutput(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	alice := e.accts["alice"]
	sign := b.challenge(alice)
	f := b.signed(alice, sign)
	proof := `{"address":"` + alice.Address + `","publicKey":"` + f.Get("publicKey") + `","signature":"` + f.Get("signature") + `"}`
	f.Del("publicKey")
	f.Del("signature")
	f.Set("proof", proof)
	if p := b.do(http.MethodPost, "/admin/signin/verify", f); p.status != http.StatusSeeOther {
		t.Fatalf("verify with pasted JSON = %d:\n%s", p.status, p.body)
	}
}

func TestSignInRefusesNonAdmin(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	bob := e.accts["bob"]
	sign := b.challenge(bob) // no hint yet that bob is not an admin
	p := b.do(http.MethodPost, "/admin/signin/verify", b.signed(bob, sign))
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "is not an administrator of this broker") ||
		!strings.Contains(p.body, bob.Address) {
		t.Fatalf("non-admin verify = %d, want 403 naming the address:\n%s", p.status, p.body)
	}
	if got := p.header.Get("Set-Cookie"); strings.Contains(got, sessionCookie+"=") && !strings.Contains(got, "Max-Age=0") {
		t.Errorf("a non-admin got a session cookie: %s", got)
	}
	if a := e.lastAudit(); a.Action != "admin.signin_denied" || a.Subject != bob.Address {
		t.Errorf("audit = %+v, want admin.signin_denied for bob", a)
	}
	if d := b.get("/admin/"); d.status != http.StatusSeeOther {
		t.Errorf("non-admin reached the dashboard: %d", d.status)
	}
}

func TestSignInChallengeRules(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.accts["alice"], e.accts["bob"]

	t.Run("replay", func(t *testing.T) {
		b := e.browser()
		sign := b.challenge(alice)
		f := b.signed(alice, sign)
		if p := b.do(http.MethodPost, "/admin/signin/verify", f); p.status != http.StatusSeeOther {
			t.Fatalf("first verify = %d", p.status)
		}
		// The same signed challenge from another browser (a thief who
		// copied the form) and from the same one: both refused.
		other := e.browser()
		start := other.get("/admin/signin")
		f2 := url.Values{}
		for k, v := range f {
			f2[k] = v
		}
		f2.Set("csrf", csrfOf(t, start))
		for name, br := range map[string]*browser{"other browser": other} {
			p := br.do(http.MethodPost, "/admin/signin/verify", f2)
			if p.status != http.StatusConflict || !strings.Contains(p.body, "already used") {
				t.Errorf("replay from %s = %d, want 409 already used:\n%s", name, p.status, p.body)
			}
		}
	})

	t.Run("wrong key keeps the challenge usable", func(t *testing.T) {
		b := e.browser()
		sign := b.challenge(alice)
		bad := b.signed(bob, sign) // bob signs alice's challenge
		p := b.do(http.MethodPost, "/admin/signin/verify", bad)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "this key belongs to "+bob.Address) {
			t.Fatalf("wrong key = %d:\n%s", p.status, p.body)
		}
		forged := b.signed(alice, sign)
		forged.Set("signature", qortal.Sign(alice.PrivateKey, []byte("something else")).Signature)
		if p := b.do(http.MethodPost, "/admin/signin/verify", forged); p.status != http.StatusBadRequest ||
			!strings.Contains(p.body, "signature does not match") {
			t.Fatalf("bad signature = %d:\n%s", p.status, p.body)
		}
		if p := b.do(http.MethodPost, "/admin/signin/verify", b.signed(alice, sign)); p.status != http.StatusSeeOther {
			t.Fatalf("retry with the right key = %d:\n%s", p.status, p.body)
		}
	})

	t.Run("expired", func(t *testing.T) {
		b := e.browser()
		sign := b.challenge(alice)
		e.clk.Advance(e.cfg.Login.ChallengeTTL + time.Second)
		p := b.do(http.MethodPost, "/admin/signin/verify", b.signed(alice, sign))
		if p.status != http.StatusGone || !strings.Contains(p.body, "expired") {
			t.Fatalf("expired challenge = %d:\n%s", p.status, p.body)
		}
	})

	t.Run("login challenges are not admin challenges", func(t *testing.T) {
		b := e.browser()
		sign := b.challenge(alice)
		f := b.signed(alice, sign)
		f.Set("challengeId", "no-such-challenge")
		if p := b.do(http.MethodPost, "/admin/signin/verify", f); p.status != http.StatusNotFound {
			t.Errorf("unknown challenge = %d, want 404", p.status)
		}
	})

	t.Run("invalid address", func(t *testing.T) {
		b := e.browser()
		start := b.get("/admin/signin")
		p := b.post("/admin/signin", start, url.Values{"address": {"Qnot-an-address"}})
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "not a Qortal address") {
			t.Errorf("invalid address = %d:\n%s", p.status, p.body)
		}
	})
}

func TestSignInFormsNeedTheBrowserToken(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.get("/admin/signin") // sets the sign-in cookie
	for name, form := range map[string]url.Values{
		"missing": {"address": {e.accts["alice"].Address}},
		"wrong":   {"address": {e.accts["alice"].Address}, "csrf": {"forged"}},
	} {
		if p := b.do(http.MethodPost, "/admin/signin", form); p.status != http.StatusForbidden {
			t.Errorf("%s sign-in token = %d, want 403", name, p.status)
		}
	}
}

func TestSignInRateLimited(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	start := b.get("/admin/signin")
	limit := e.cfg.Login.RateLimit.PerIPPerMinute
	var last page
	for i := 0; i <= limit; i++ {
		last = b.post("/admin/signin", start, url.Values{"address": {e.accts["alice"].Address}})
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" {
		t.Fatalf("attempt %d = %d, want 429 with Retry-After", limit+1, last.status)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Issue 7 item 3: console sign-in refuses the small-order forgery (before
// the fix it reached "Not an administrator", i.e. the proof passed).
func TestSignInRefusesSmallOrderKey(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	start := b.get("/admin/signin")
	sign := b.post("/admin/signin", start, url.Values{"address": {qortaltest.SmallOrderAddress}})
	if sign.status != http.StatusOK {
		t.Fatalf("POST /admin/signin = %d", sign.status)
	}
	pub, sig := qortaltest.SmallOrderProof()
	p := b.do(http.MethodPost, "/admin/signin/verify", url.Values{
		"csrf": {csrfOf(t, sign)}, "challengeId": {find(t, challengeRE, sign, "challenge id")},
		"publicKey": {pub}, "signature": {sig},
	})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "bad_public_key") {
		t.Fatalf("verify = %d, want 400 naming bad_public_key:\n%s", p.status, p.body)
	}
}

// Issue 7 item 4: only failed proofs spend the address's budget, and the
// administrator's valid signature gets in after a flood of wrong ones.
func TestSignInOwnerGetsInAfterFailedFlood(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	alice, bob := e.accts["alice"], e.accts["bob"]
	sign := b.challenge(alice)
	wrong := b.signed(bob, sign)
	wrong.Set("publicKey", b.signed(alice, sign).Get("publicKey"))
	limited := false
	for i := 0; i <= e.cfg.Login.RateLimit.PerAddressPerMinute; i++ {
		if p := b.do(http.MethodPost, "/admin/signin/verify", wrong); p.status == http.StatusTooManyRequests {
			limited = true
		}
	}
	if !limited {
		t.Fatal("failed proofs were never limited per address")
	}
	p := b.do(http.MethodPost, "/admin/signin/verify", b.signed(alice, sign))
	if p.status != http.StatusSeeOther || p.location != "/admin/" {
		t.Fatalf("the owner's valid signature after the flood = %d to %q:\n%s", p.status, p.location, p.body)
	}
}
