package login

import (
	"crypto/ed25519"
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
)

var (
	appTagRE   = regexp.MustCompile(`<main[^>]*\sid="app"[^>]*>`)
	dataAttrRE = regexp.MustCompile(`\sdata-([a-z-]+)="([^"]*)"`)
)

// pageAttrs reads the login page for authRequestID as its script does: the
// data-* attributes of #app, unescaped (the browser's dataset).
func (e *env) pageAttrs(authRequestID string) map[string]string {
	e.t.Helper()
	res, err := e.srv.Client().Get(e.srv.URL + "/login?authRequestID=" + authRequestID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	tag := appTagRE.Find(body)
	if res.StatusCode != http.StatusOK || tag == nil {
		e.t.Fatalf("login page: %d, #app found %v", res.StatusCode, tag != nil)
	}
	attrs := map[string]string{}
	for _, m := range dataAttrRE.FindAllSubmatch(tag, -1) {
		attrs[string(m[1])] = html.UnescapeString(string(m[2]))
	}
	return attrs
}

// pageChallenge is the page's own challenge with the message the script
// builds for acct's address.
func (e *env) pageChallenge(authRequestID, acct string) challenge {
	e.t.Helper()
	d := e.pageAttrs(authRequestID)
	if d["challenge-id"] == "" {
		e.t.Fatalf("the login page carries no challenge: %v", d)
	}
	return challenge{ID: d["challenge-id"], Message: d["message-head"] + e.accts[acct].Address + d["message-tail"] + d["message-stamp"]}
}

// withAddress is a proof naming acct's address, as the page sends it.
func (e *env) withAddress(p map[string]string, acct string) map[string]string {
	p["qortalAddress"] = e.accts[acct].Address
	return p
}

// The page's challenge, put together in the browser, is the message the
// server would have issued for the address (byte for byte, so every wallet
// path signs the same text), and a login completes with it and no
// /login/challenge request; it is recorded once, and a replay is refused.
func TestPageChallengeLogin(t *testing.T) {
	e := newEnv(t, testConfig())
	c := e.pageChallenge("ar1", "alice")
	d := e.pageAttrs("ar1")
	if d["challenge-id"] == c.ID {
		t.Error("two page loads carry the same challenge")
	}
	exp, err := time.Parse(time.RFC3339, d["challenge-expires"])
	if err != nil || !exp.Equal(e.clk.Now().Truncate(time.Second).Add(5*time.Minute)) {
		t.Errorf("challenge-expires %q (%v), want the challenge TTL from now", d["challenge-expires"], err)
	}
	want := BuildMessage(MessageParams{
		Issuer: "https://id.example.org", ClientName: "Example Cloud", ClientID: "nextcloud", Address: e.accts["alice"].Address,
		Nonce: nonceOf(t, c.Message), IssuedAt: e.clk.Now(), ExpiresAt: exp,
	})
	if c.Message != want {
		t.Errorf("the page's message:\n%q\nthe server's for that address:\n%q", c.Message, want)
	}
	if n := countChallenges(t, e); n != 0 {
		t.Fatalf("serving the page stored %d challenges", n)
	}
	p := e.withAddress(e.proof(c, "alice", "alice"), "alice")
	expect(t, e.post("/login/verify", p), http.StatusOK, "")
	if e.prov.completed["ar1"].NextcloudUserID != "alice" {
		t.Fatalf("completed with %+v", e.prov.completed["ar1"])
	}
	expect(t, e.post("/login/verify", p), http.StatusConflict, "challenge_used")
	if n := countChallenges(t, e); n != 1 {
		t.Fatalf("%d challenges recorded, want the one used", n)
	}
}

// A page challenge is for whatever address the proof names, and only that
// one: no address, a malformed one, or a proof for another address fails
// precisely and leaves the challenge usable.
func TestPageChallengeNeedsTheAddress(t *testing.T) {
	e := newEnv(t, testConfig())
	e.link("bob", "bob", "linked")
	c := e.pageChallenge("ar1", "alice")
	p := e.proof(c, "alice", "alice")
	expect(t, e.post("/login/verify", p), http.StatusBadRequest, "invalid_address")
	p["qortalAddress"] = "Qnot-an-address"
	expect(t, e.post("/login/verify", p), http.StatusBadRequest, "invalid_address")
	p["qortalAddress"] = e.accts["alice"].Address + "\nAnother line"
	expect(t, e.post("/login/verify", p), http.StatusBadRequest, "invalid_address")
	// Alice's key and signature, named as bob's: the key is not bob's.
	expect(t, e.post("/login/verify", e.withAddress(e.proof(c, "alice", "alice"), "bob")), http.StatusBadRequest, "address_mismatch")
	// Bob's key over the message built for alice: bob's message differs.
	expect(t, e.post("/login/verify", e.withAddress(e.proof(c, "bob", "bob"), "bob")), http.StatusBadRequest, "bad_signature")
	if len(e.prov.completed) != 0 {
		t.Fatal("a failed proof completed the login")
	}
	expect(t, e.post("/login/verify", e.withAddress(e.proof(c, "alice", "alice"), "alice")), http.StatusOK, "")
}

// A challenge issued for an address (/login/challenge) stays that
// address's: a proof or a Hub transaction naming another is refused.
func TestBoundChallengeRefusesAnotherAddress(t *testing.T) {
	e := newEnv(t, testConfig())
	c := e.challenge("ar1", "alice")
	expect(t, e.post("/login/verify", e.withAddress(e.proof(c, "alice", "alice"), "bob")), http.StatusBadRequest, "address_mismatch")
	expect(t, e.post("/login/hub-transaction", map[string]string{"challengeId": c.ID, "qortalAddress": e.accts["bob"].Address, "publicKey": e.accts["bob"].PublicKey58}),
		http.StatusBadRequest, "address_mismatch")
	expect(t, e.post("/login/verify", e.withAddress(e.proof(c, "alice", "alice"), "alice")), http.StatusOK, "")
}

func TestPageChallengeExpires(t *testing.T) {
	e := newEnv(t, testConfig())
	c := e.pageChallenge("ar1", "alice")
	e.clk.Advance(5*time.Minute + time.Second)
	expect(t, e.post("/login/verify", e.withAddress(e.proof(c, "alice", "alice"), "alice")), http.StatusGone, "challenge_expired")
}

// Tampering with the page's challenge or its message fails: the id is
// sealed, and the message is rebuilt from the seal and the address.
func TestPageChallengeTampering(t *testing.T) {
	e := newEnv(t, testConfig())
	c := e.pageChallenge("ar1", "alice")
	forged := c
	forged.Message = strings.Replace(c.Message, "Example Cloud", "Evil Cloud", 1)
	expect(t, e.post("/login/verify", e.withAddress(e.proof(forged, "alice", "alice"), "alice")), http.StatusBadRequest, "bad_signature")
	bad := c
	bad.ID = c.ID[:len(c.ID)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(c.ID, "AA")]
	expect(t, e.post("/login/verify", e.withAddress(e.proof(bad, "alice", "alice"), "alice")), http.StatusNotFound, "challenge_not_found")
	expect(t, e.post("/login/verify", e.withAddress(e.proof(c, "alice", "alice"), "alice")), http.StatusOK, "")
}

// Qortal Hub signs the page's challenge as a MESSAGE transaction: the
// transaction the broker builds carries the message for the address
// named, and the login completes from it.
func TestPageChallengeHubTransaction(t *testing.T) {
	e := newEnv(t, testConfig())
	alice := e.accts["alice"]
	c := e.pageChallenge("ar1", "alice")
	expect(t, e.post("/login/hub-transaction", map[string]string{"challengeId": c.ID, "publicKey": alice.PublicKey58}), http.StatusBadRequest, "invalid_address")
	r := e.post("/login/hub-transaction", map[string]string{"challengeId": c.ID, "qortalAddress": alice.Address, "publicKey": alice.PublicKey58})
	expect(t, r, http.StatusOK, "")
	unsigned, err := qortal.Base58Decode(r.body["unsignedBytes"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unsigned), c.Message) {
		t.Fatal("the transaction does not carry the page's message for alice")
	}
	signed := qortal.Base58Encode(append(append([]byte{}, unsigned...), ed25519.Sign(alice.PrivateKey, unsigned)...))
	expect(t, e.post("/login/verify", map[string]string{"challengeId": c.ID, "qortalAddress": alice.Address, "signedTransaction": signed}), http.StatusOK, "")
	if e.prov.completed["ar1"].NextcloudUserID != "alice" {
		t.Fatal("the Hub path did not complete the login")
	}
}
