package login

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func TestLoginSuccess(t *testing.T) {
	e := newEnv(t, testConfig())
	c := e.challenge("ar1", "alice")
	r := e.post("/login/verify", e.proof(c, "alice", "alice"))
	if r.status != http.StatusOK {
		t.Fatalf("verify: %d %v", r.status, r.body)
	}
	if got := r.body["redirectTo"]; got != "https://rp.example/cb?code=code-ar1&state=s" {
		t.Fatalf("redirectTo = %v", got)
	}
	m := e.prov.completed["ar1"]
	if m.NextcloudUserID != "alice" || m.QortalAddress != e.accts["alice"].Address {
		t.Fatalf("provider completed with %+v", m)
	}
	page, err := e.store.ListAudit(context.Background(), store.ListOptions{Query: "login.success"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range page.Entries {
		found = found || (a.Action == "login.success" && a.Subject == e.accts["alice"].Address)
	}
	if !found {
		t.Fatalf("no login.success audit entry in %+v", page.Entries)
	}
}

func TestChallengeMessageNamesClientAndAddress(t *testing.T) {
	e := newEnv(t, testConfig())
	c := e.challenge("ar1", "alice")
	for _, want := range []string{"Sign in to Example Cloud via https://id.example.org", e.accts["alice"].Address, "Client ID: nextcloud"} {
		if !strings.Contains(c.Message, want) {
			t.Errorf("message lacks %q:\n%s", want, c.Message)
		}
	}
	// Issuing stored nothing (the id is sealed); using it records exactly
	// what was signed, for whom.
	if n := countChallenges(t, e); n != 0 {
		t.Fatalf("issuing a challenge stored %d rows", n)
	}
	expect(t, e.post("/login/verify", e.proof(c, "alice", "alice")), http.StatusOK, "")
	stored, err := e.store.GetChallenge(context.Background(), "lc_"+nonceOf(t, c.Message))
	if err != nil {
		t.Fatal(err)
	}
	if stored.Purpose != "login" || stored.AuthRequestID != "ar1" || stored.ClientID != "nextcloud" ||
		stored.QortalAddress != e.accts["alice"].Address || stored.Message != c.Message || stored.UsedAt == nil {
		t.Fatalf("recorded challenge %+v", stored)
	}
	if len(nonceOf(t, c.Message)) < 32 {
		t.Fatalf("challenge nonce in %q is shorter than 128 bits", c.Message)
	}
}

// A sealed id altered in any part does not open.
func TestSealedChallengeTampering(t *testing.T) {
	e := newEnv(t, testConfig())
	c := e.challenge("ar1", "alice")
	payload, mac, _ := strings.Cut(strings.TrimPrefix(c.ID, "lc1."), ".")
	for _, id := range []string{
		"lc1." + payload + "." + mac[:len(mac)-2] + "AA",
		"lc1." + payload[:len(payload)-2] + "AA." + mac,
		"lc1." + payload,
		"lc2." + payload + "." + mac,
	} {
		forged := c
		forged.ID = id
		expect(t, e.post("/login/verify", e.proof(forged, "alice", "alice")), http.StatusNotFound, "challenge_not_found")
	}
	// Another broker (another key) cannot open it either.
	other := testConfig()
	other.OIDC.KeyEncryptionKey = bytes.Repeat([]byte{1}, 32)
	e2 := baseEnv(t, e.clk)
	e2.serve(other, Deps{})
	e2.link("alice", "alice", store.StatusLinked)
	expect(t, e2.post("/login/verify", e2.proof(c, "alice", "alice")), http.StatusNotFound, "challenge_not_found")
	expect(t, e.post("/login/verify", e.proof(c, "alice", "alice")), http.StatusOK, "")
}

func nonceOf(t *testing.T, msg string) string {
	t.Helper()
	for _, line := range strings.Split(msg, "\n") {
		if v, ok := strings.CutPrefix(line, "Nonce: "); ok {
			return v
		}
	}
	t.Fatalf("no nonce in %q", msg)
	return ""
}

func countChallenges(t *testing.T, e *env) int {
	t.Helper()
	n, err := e.store.DeleteExpiredChallenges(context.Background(), e.clk.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestVerifyReplay(t *testing.T) {
	e := newEnv(t, testConfig())
	c := e.challenge("ar1", "alice")
	p := e.proof(c, "alice", "alice")
	expect(t, e.post("/login/verify", p), http.StatusOK, "")
	expect(t, e.post("/login/verify", p), http.StatusConflict, "challenge_used")
}

func TestVerifyExpired(t *testing.T) {
	e := newEnv(t, testConfig())
	c := e.challenge("ar1", "alice")
	e.clk.Advance(5*time.Minute + time.Second)
	expect(t, e.post("/login/verify", e.proof(c, "alice", "alice")), http.StatusGone, "challenge_expired")
}

func TestVerifyUnknownChallenge(t *testing.T) {
	e := newEnv(t, testConfig())
	c := e.challenge("ar1", "alice")
	c.ID = "nope" + c.ID
	expect(t, e.post("/login/verify", e.proof(c, "alice", "alice")), http.StatusNotFound, "challenge_not_found")
}

func TestVerifyWrongKeys(t *testing.T) {
	e := newEnv(t, testConfig())
	c := e.challenge("ar1", "alice")
	// Bob's own key and signature: valid, but not alice's address.
	r := e.post("/login/verify", e.proof(c, "bob", "bob"))
	expect(t, r, http.StatusBadRequest, "address_mismatch")
	if msg := r.body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, e.accts["bob"].Address) {
		t.Fatalf("mismatch message %q does not say whose key it is", msg)
	}
	// Alice's public key with bob's signature.
	expect(t, e.post("/login/verify", e.proof(c, "bob", "alice")), http.StatusBadRequest, "bad_signature")
	// Alice's signature over another message.
	other := c
	other.Message += " "
	expect(t, e.post("/login/verify", e.proof(other, "alice", "alice")), http.StatusBadRequest, "bad_signature")
	// Failures did not consume the challenge: the right proof still works.
	expect(t, e.post("/login/verify", e.proof(c, "alice", "alice")), http.StatusOK, "")
}

func TestVerifyAuthRequestMismatch(t *testing.T) {
	e := newEnv(t, testConfig())
	e.prov.add("ar2", "nextcloud", "Example Cloud")
	c := e.challenge("ar1", "alice")
	p := e.proof(c, "alice", "alice")
	p["authRequestId"] = "ar2"
	expect(t, e.post("/login/verify", p), http.StatusBadRequest, "auth_request_mismatch")

	// A challenge recorded for another client than its auth request's.
	now := e.clk.Now()
	err := e.store.CreateChallenge(context.Background(), store.Challenge{
		ID: "forged-client-challenge", Purpose: "login", QortalAddress: e.accts["alice"].Address,
		Message: c.Message, AuthRequestID: "ar1", ClientID: "other-client", CreatedAt: now, ExpiresAt: now.Add(time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	p = e.proof(challenge{ID: "forged-client-challenge", Message: c.Message}, "alice", "alice")
	expect(t, e.post("/login/verify", p), http.StatusBadRequest, "auth_request_mismatch")

	// The matching auth request id is accepted.
	p = e.proof(c, "alice", "alice")
	p["authRequestId"] = "ar1"
	expect(t, e.post("/login/verify", p), http.StatusOK, "")
}

func TestVerifyNotLinkedAndDenyFlow(t *testing.T) {
	e := newEnv(t, testConfig())
	c := e.challenge("ar1", "bob")
	r := e.post("/login/verify", e.proof(c, "bob", "bob"))
	expect(t, r, http.StatusForbidden, "not_linked")
	to, _ := r.body["redirectTo"].(string)
	if !strings.HasPrefix(to, "/login/denied?") || !strings.Contains(to, "authRequestID=ar1") || !strings.Contains(to, "reason=not_linked") {
		t.Fatalf("redirectTo = %q", to)
	}
	if _, done := e.prov.completed["ar1"]; done {
		t.Fatal("an unlinked address completed the login")
	}

	res, body := e.get(to)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "not linked to a Nextcloud account") ||
		!strings.Contains(body, "Return to Example Cloud") {
		t.Fatalf("denied page: %d\n%s", res.StatusCode, body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "form-action 'self' https://rp.example") {
		t.Fatalf("denied page CSP does not allow the RP as form target: %q", csp)
	}

	client := e.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res2, err := client.PostForm(e.srv.URL+"/login/denied", map[string][]string{"authRequestID": {"ar1"}, "reason": {"not_linked"}})
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusSeeOther || !strings.Contains(res2.Header.Get("Location"), "error=access_denied") {
		t.Fatalf("deny: %d Location %q", res2.StatusCode, res2.Header.Get("Location"))
	}
	if e.prov.denied["ar1"] == "" {
		t.Fatal("DenyLogin was not called")
	}
}

func TestVerifyInvitedIsNotLinked(t *testing.T) {
	e := newEnv(t, testConfig())
	e.link("bob", "bob", store.StatusInvited)
	c := e.challenge("ar1", "bob")
	expect(t, e.post("/login/verify", e.proof(c, "bob", "bob")), http.StatusForbidden, "not_linked")
}

func TestVerifyBlocked(t *testing.T) {
	e := newEnv(t, testConfig())
	e.link("bob", "bob", store.StatusBlocked)
	c := e.challenge("ar1", "bob")
	r := e.post("/login/verify", e.proof(c, "bob", "bob"))
	expect(t, r, http.StatusForbidden, "blocked")
	if to, _ := r.body["redirectTo"].(string); !strings.Contains(to, "reason=blocked") {
		t.Fatalf("redirectTo = %q", to)
	}
	if _, done := e.prov.completed["ar1"]; done {
		t.Fatal("a blocked address completed the login")
	}
}

func TestRateLimitPerAddress(t *testing.T) {
	cfg := testConfig()
	cfg.Login.RateLimit.PerAddressPerMinute = 3
	e := newEnv(t, cfg)
	c := e.challenge("ar1", "alice") // issuing is not charged per address
	bad := e.proof(c, "bob", "alice")
	for i := 0; i < 3; i++ {
		expect(t, e.post("/login/verify", bad), http.StatusBadRequest, "bad_signature")
	}
	r := e.post("/login/verify", bad)
	expect(t, r, http.StatusTooManyRequests, "rate_limited")
	if ra := r.header.Get("Retry-After"); ra != "20" {
		t.Fatalf("Retry-After = %q, want 20 (one token per 20 s)", ra)
	}
	// Another address is unaffected, and the owner's valid signature gets
	// in even while the budget of failed proofs is spent.
	e.challenge("ar1", "bob")
	expect(t, e.post("/login/verify", e.proof(c, "alice", "alice")), http.StatusOK, "")
}

// Issue 7 item 4: anonymous challenge requests used to spend the address's
// budget, so ten a minute kept the owner out indefinitely. Now issuing
// counts per IP only, failed proofs spend the address budget, and the owner
// with a valid signature gets in during the flood.
func TestOwnerGetsInWhileTheAddressIsFlooded(t *testing.T) {
	cfg := testConfig()
	cfg.Login.RateLimit.PerAddressPerMinute = 10
	e := newEnv(t, cfg)
	var last challenge
	for i := 0; i < 30; i++ { // far past the per-address budget
		last = e.challenge("ar1", "alice")
	}
	bad := e.proof(last, "bob", "alice")
	limited := false
	for i := 0; i < 15; i++ {
		if r := e.post("/login/verify", bad); r.status == http.StatusTooManyRequests {
			limited = true
		}
	}
	if !limited {
		t.Fatal("failed proofs for one address were never rate limited")
	}
	c := e.challenge("ar1", "alice")
	expect(t, e.post("/login/verify", e.proof(c, "alice", "alice")), http.StatusOK, "")
	if e.prov.completed["ar1"].NextcloudUserID != "alice" {
		t.Fatal("the owner's login did not complete")
	}
}

func TestRateLimitPerIP(t *testing.T) {
	cfg := testConfig()
	cfg.Login.RateLimit.PerIPPerMinute = 2
	e := newEnv(t, cfg)
	e.challenge("ar1", "alice")
	e.challenge("ar1", "bob")
	r := e.post("/login/challenge", map[string]string{"authRequestId": "ar1", "qortalAddress": e.accts["chloe"].Address})
	expect(t, r, http.StatusTooManyRequests, "rate_limited")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	expect(t, e.post("/login/verify", map[string]string{"challengeId": "x", "publicKey": "y", "signature": "z"}),
		http.StatusTooManyRequests, "rate_limited")
}

func TestRequestValidation(t *testing.T) {
	e := newEnv(t, testConfig())
	c := e.challenge("ar1", "alice")
	p := e.proof(c, "alice", "alice")
	cases := []struct {
		name, path string
		body       any
		status     int
		code       string
	}{
		{"unknown field", "/login/verify", map[string]string{"challengeId": c.ID, "publicKey": p["publicKey"], "signature": p["signature"], "extra": "1"}, 400, "unknown_field"},
		{"unknown field challenge", "/login/challenge", map[string]string{"authRequestId": "ar1", "qortalAddress": e.accts["alice"].Address, "x": ""}, 400, "unknown_field"},
		{"trailing data", "/login/verify", `{"challengeId":"a","publicKey":"b","signature":"c"} {}`, 400, "invalid_json"},
		{"not json", "/login/verify", `challengeId=a`, 400, "invalid_json"},
		{"both proof kinds", "/login/verify", map[string]string{"challengeId": c.ID, "publicKey": p["publicKey"], "signature": p["signature"], "signedTransaction": "abc"}, 400, "invalid_request"},
		{"no proof", "/login/verify", map[string]string{"challengeId": c.ID}, 400, "invalid_request"},
		{"signature missing", "/login/verify", map[string]string{"challengeId": c.ID, "publicKey": p["publicKey"]}, 400, "invalid_request"},
		{"bad base58 signature", "/login/verify", map[string]string{"challengeId": c.ID, "publicKey": p["publicKey"], "signature": "0OIl"}, 400, "invalid_request"},
		{"short public key", "/login/verify", map[string]string{"challengeId": c.ID, "publicKey": "abc", "signature": p["signature"]}, 400, "invalid_request"},
		{"bad transaction", "/login/verify", map[string]string{"challengeId": c.ID, "signedTransaction": "3mJr7AoUXx2Wqd"}, 400, "invalid_request"},
		{"bad address checksum", "/login/challenge", map[string]string{"authRequestId": "ar1", "qortalAddress": e.accts["alice"].Address[:33] + "w"}, 400, "invalid_address"},
		{"empty address", "/login/challenge", map[string]string{"authRequestId": "ar1", "qortalAddress": " "}, 400, "invalid_address"},
		{"unknown auth request", "/login/challenge", map[string]string{"authRequestId": "nope", "qortalAddress": e.accts["alice"].Address}, 410, "auth_request_expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.post(tc.path, tc.body)
			expect(t, r, tc.status, tc.code)
			if msg, _ := r.body["error"].(map[string]any)["message"].(string); msg == "" {
				t.Fatal("error without message")
			}
		})
	}
	// Nothing above consumed the challenge.
	expect(t, e.post("/login/verify", p), http.StatusOK, "")
}

func TestChallengeAddressErrorsArePrecise(t *testing.T) {
	e := newEnv(t, testConfig())
	r := e.post("/login/challenge", map[string]string{"authRequestId": "ar1", "qortalAddress": "AgV4s3xnzLhVBEJxcYui4u4q11yhUHsd9v"})
	expect(t, r, 400, "invalid_address")
	msg := r.body["error"].(map[string]any)["message"].(string)
	if !strings.Contains(msg, qortal.ErrAddressVersion.Error()) && !strings.Contains(msg, qortal.ErrAddressChecksum.Error()) {
		t.Fatalf("message %q does not carry the address error", msg)
	}
}

func TestChallengeForCompletedAuthRequest(t *testing.T) {
	e := newEnv(t, testConfig())
	c := e.challenge("ar1", "alice")
	expect(t, e.post("/login/verify", e.proof(c, "alice", "alice")), http.StatusOK, "")
	r := e.post("/login/challenge", map[string]string{"authRequestId": "ar1", "qortalAddress": e.accts["alice"].Address})
	expect(t, r, http.StatusGone, "auth_request_expired")
}

func TestChallengeExpiryCappedByAuthRequest(t *testing.T) {
	e := newEnv(t, testConfig())
	e.clk.Advance(8 * time.Minute) // the auth request has 2 minutes left, the TTL is 5
	r := e.post("/login/challenge", map[string]string{"authRequestId": "ar1", "qortalAddress": e.accts["alice"].Address})
	expect(t, r, http.StatusOK, "")
	if want := e.prov.requests["ar1"].ExpiresAt.UTC().Format(time.RFC3339); r.body["expiresAt"] != want {
		t.Fatalf("challenge expires %v, auth request %v", r.body["expiresAt"], want)
	}
}

func TestHubTransactionPath(t *testing.T) {
	e := newEnv(t, testConfig())
	alice := e.accts["alice"]
	c := e.challenge("ar1", "alice")

	r := e.post("/login/hub-transaction", map[string]string{"challengeId": c.ID, "publicKey": e.accts["bob"].PublicKey58})
	expect(t, r, http.StatusBadRequest, "address_mismatch")

	r = e.post("/login/hub-transaction", map[string]string{"challengeId": c.ID, "publicKey": alice.PublicKey58})
	expect(t, r, http.StatusOK, "")
	unsigned, err := qortal.Base58Decode(r.body["unsignedBytes"].(string))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(b []byte) string {
		return qortal.Base58Encode(append(append([]byte{}, b...), ed25519.Sign(alice.PrivateKey, b)...))
	}

	// A transaction carrying other data fails, and does not use up the challenge.
	other, err := qortal.BuildMessageTx(qortal.MessageTxParams{Timestamp: e.clk.Now(), SenderPublicKey: alice.PrivateKey.Public().(ed25519.PublicKey), Data: []byte(c.Message + "!"), IsText: true})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, e.post("/login/verify", map[string]string{"challengeId": c.ID, "signedTransaction": sign(other)}), http.StatusBadRequest, "bad_signature")
	// Binary (non-text) data with the right bytes fails too.
	binary, _ := qortal.BuildMessageTx(qortal.MessageTxParams{Timestamp: e.clk.Now(), SenderPublicKey: alice.PrivateKey.Public().(ed25519.PublicKey), Data: []byte(c.Message)})
	expect(t, e.post("/login/verify", map[string]string{"challengeId": c.ID, "signedTransaction": sign(binary)}), http.StatusBadRequest, "bad_signature")
	// A tampered signature fails.
	tampered := []byte(sign(unsigned))
	tampered[len(tampered)-3] = map[bool]byte{true: '2', false: '3'}[tampered[len(tampered)-3] != '2']
	expect(t, e.post("/login/verify", map[string]string{"challengeId": c.ID, "signedTransaction": string(tampered)}), http.StatusBadRequest, "bad_signature")

	expect(t, e.post("/login/verify", map[string]string{"challengeId": c.ID, "signedTransaction": sign(unsigned)}), http.StatusOK, "")
	if e.prov.completed["ar1"].NextcloudUserID != "alice" {
		t.Fatal("Hub path did not complete the login")
	}
}

func TestHubTransactionFromAnotherSender(t *testing.T) {
	e := newEnv(t, testConfig())
	bob := e.accts["bob"]
	c := e.challenge("ar1", "alice")
	tx, err := qortal.BuildMessageTx(qortal.MessageTxParams{Timestamp: e.clk.Now(), SenderPublicKey: bob.PrivateKey.Public().(ed25519.PublicKey), Data: []byte(c.Message), IsText: true})
	if err != nil {
		t.Fatal(err)
	}
	signed := qortal.Base58Encode(append(tx, ed25519.Sign(bob.PrivateKey, tx)...))
	expect(t, e.post("/login/verify", map[string]string{"challengeId": c.ID, "signedTransaction": signed}), http.StatusBadRequest, "address_mismatch")
}

// Two replicas share one store: of concurrent verifies of the same valid
// proof exactly one may complete the login.
func TestConcurrentVerifyAcrossReplicasConsumesOnce(t *testing.T) {
	e := newEnv(t, testConfig())
	h2, err := New(testConfig(), Deps{Store: e.store, Provider: e.prov, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	r2 := mux.NewRouter()
	h2.Register(r2)
	srv2 := httptest.NewServer(r2)
	defer srv2.Close()
	replica2 := &env{t: t, srv: srv2, accts: e.accts}

	c := e.challenge("ar1", "alice")
	p := e.proof(c, "alice", "alice")
	var wg sync.WaitGroup
	results := make([]response, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			target := e
			if i%2 == 1 {
				target = replica2
			}
			results[i] = target.post("/login/verify", p)
		}()
	}
	wg.Wait()
	ok := 0
	for _, r := range results {
		switch {
		case r.status == http.StatusOK:
			ok++
		case r.code() != "challenge_used" && r.code() != "auth_request_expired":
			t.Errorf("unexpected %d %v", r.status, r.body)
		}
	}
	if ok != 1 {
		t.Fatalf("%d verifies succeeded, want exactly 1", ok)
	}
}

// Audit details use the API's camelCase keys, like every other audit entry.
func TestLoginAuditDetailKeysAreCamelCase(t *testing.T) {
	e := newEnv(t, testConfig())
	expect(t, e.post("/login/verify", e.proof(e.challenge("ar1", "alice"), "alice", "alice")), http.StatusOK, "")
	e.prov.add("ar2", "nextcloud", "Example Cloud")
	expect(t, e.post("/login/verify", e.proof(e.challenge("ar2", "bob"), "bob", "bob")), http.StatusForbidden, "not_linked")
	page, err := e.store.ListAudit(context.Background(), store.ListOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	camel := regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	actions := map[string]bool{}
	for _, a := range page.Entries {
		actions[a.Action] = true
		var d map[string]any
		if err := json.Unmarshal([]byte(a.Detail), &d); err != nil {
			t.Fatalf("%s detail %q: %v", a.Action, a.Detail, err)
		}
		for k := range d {
			if !camel.MatchString(k) {
				t.Errorf("%s detail key %q is not camelCase", a.Action, k)
			}
		}
	}
	if !actions["login.success"] || !actions["login.denied"] {
		t.Fatalf("audit actions %v: want login.success and login.denied", actions)
	}
}
