package login

import (
	"crypto/ed25519"
	"net/http"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
)

// Issue 7 item 3: the identity key "signs" every message under plain
// RFC 8032 verification. Before the fix the login answered 403 not_linked,
// i.e. the proof had passed.
func TestLoginRefusesSmallOrderKey(t *testing.T) {
	e := newEnv(t, testConfig())
	pub, sig := qortaltest.SmallOrderProof()
	r := e.post("/login/challenge", map[string]string{"authRequestId": "ar1", "qortalAddress": qortaltest.SmallOrderAddress})
	expect(t, r, http.StatusOK, "")
	id := r.body["challengeId"].(string)

	expect(t, e.post("/login/verify", map[string]string{"challengeId": id, "publicKey": pub, "signature": sig}),
		http.StatusBadRequest, "bad_public_key")
	expect(t, e.post("/login/hub-transaction", map[string]string{"challengeId": id, "publicKey": pub}),
		http.StatusBadRequest, "bad_public_key")

	// The same forgery as a MESSAGE transaction.
	key, _ := qortal.Base58Decode(pub)
	unsigned, err := qortal.BuildMessageTx(qortal.MessageTxParams{Timestamp: e.clk.Now(), SenderPublicKey: ed25519.PublicKey(key), Data: []byte(r.body["message"].(string)), IsText: true})
	if err != nil {
		t.Fatal(err)
	}
	rawSig, _ := qortal.Base58Decode(sig)
	tx := qortal.Base58Encode(append(unsigned, rawSig...))
	expect(t, e.post("/login/verify", map[string]string{"challengeId": id, "signedTransaction": tx}),
		http.StatusBadRequest, "bad_public_key")
	if len(e.prov.completed) != 0 {
		t.Fatal("a forged proof completed a login")
	}
}
