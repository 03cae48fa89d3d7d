package server

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

func TestUpsertFromWallet(t *testing.T) {
	accts := qortaltest.Accounts(t)
	alice, bob := accts["alice"], accts["bob"]
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		b := newBroker(t, open(t), newFakeNextcloud(t))
		challenge := func(addr string) (id, msg string) {
			r := b.do("POST", "/api/provision/challenge", map[string]any{"qortalAddress": addr})
			if r.Status != http.StatusCreated || r.Body["challengeId"] == "" || r.Body["expiresAt"] == "" {
				t.Fatalf("challenge: %d %s", r.Status, r.Raw)
			}
			return r.Body["challengeId"].(string), r.Body["message"].(string)
		}
		wallet := func(id string, p struct{ PublicKey, Signature string }) response {
			return b.do("POST", "/api/provision/upsert-from-wallet", map[string]any{
				"challengeId": id, "publicKey": p.PublicKey, "signature": p.Signature, "displayName": "Alice"})
		}
		proof := func(a qortaltest.Account, msg string) struct{ PublicKey, Signature string } {
			p := b.sign(a, msg)
			return struct{ PublicKey, Signature string }{p.PublicKey, p.Signature}
		}

		id, msg := challenge(alice.Address)
		for _, want := range []string{alice.Address, b.srv.cfg.Issuer, "Nonce:", "Expiration Time:", "Nextcloud"} {
			if !strings.Contains(msg, want) {
				t.Fatalf("challenge message lacks %q:\n%s", want, msg)
			}
		}
		// Another key's signature over the right message: rejected, and the
		// challenge survives for the real owner.
		if r := wallet(id, proof(bob, msg)); r.Status != 400 || r.errCode() != "address_mismatch" {
			t.Fatalf("other key: %d %s", r.Status, r.Raw)
		}
		bad := proof(alice, msg+"tampered")
		if r := wallet(id, bad); r.Status != 400 || r.errCode() != "bad_signature" {
			t.Fatalf("bad signature: %d %s", r.Status, r.Raw)
		}
		if r := wallet(id, struct{ PublicKey, Signature string }{"not-a-key", "x"}); r.Status != 400 || r.errCode() != "invalid_public_key" {
			t.Fatalf("bad key: %d %s", r.Status, r.Raw)
		}
		good := proof(alice, msg)
		r := wallet(id, good)
		if r.Status != http.StatusCreated || r.Body["qortalAddress"] != alice.Address || r.Body["linked"] != true {
			t.Fatalf("wallet upsert: %d %s", r.Status, r.Raw)
		}
		if r := wallet(id, good); r.Status != http.StatusConflict || r.errCode() != "challenge_used" {
			t.Fatalf("replay: %d %s", r.Status, r.Raw)
		}

		// A challenge without an address binds to whoever signs it.
		id, msg = challenge("")
		if r := wallet(id, proof(bob, msg)); r.Status != http.StatusCreated || r.Body["qortalAddress"] != bob.Address {
			t.Fatalf("unbound challenge: %d %s", r.Status, r.Raw)
		}

		// Racing replays of one valid proof: exactly one wins.
		id, msg = challenge(accts["chloe"].Address)
		p := proof(accts["chloe"], msg)
		var wg sync.WaitGroup
		statuses := make([]int, 8)
		for i := range statuses {
			wg.Add(1)
			go func() { defer wg.Done(); statuses[i] = wallet(id, p).Status }()
		}
		wg.Wait()
		wins := 0
		for _, s := range statuses {
			switch s {
			case http.StatusCreated, http.StatusOK:
				wins++
			case http.StatusConflict:
			default:
				t.Fatalf("unexpected status %d in race", s)
			}
		}
		if wins != 1 {
			t.Fatalf("%d concurrent uses of one challenge succeeded, want 1 (%v)", wins, statuses)
		}
	})
}
