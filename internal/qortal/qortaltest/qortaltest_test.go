package qortaltest

import (
	"crypto/ed25519"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
)

// Each account's parsed key must yield its published public key and
// address, or tests signing with it would check the wrong identity.
func TestAccountsAreConsistent(t *testing.T) {
	accts := Accounts(t)
	if len(accts) < len(Required()) {
		t.Fatalf("%d accounts, want at least %d", len(accts), len(Required()))
	}
	for name, a := range accts {
		if a.Name != name {
			t.Errorf("account %q is keyed as %q", a.Name, name)
		}
		pub := a.PrivateKey.Public().(ed25519.PublicKey)
		if got := qortal.Base58Encode(pub); got != a.PublicKey58 {
			t.Errorf("%s: key gives public key %s, vectors say %s", name, got, a.PublicKey58)
		}
		if got := qortal.AddressFromPublicKey(pub); got != a.Address {
			t.Errorf("%s: key gives address %s, vectors say %s", name, got, a.Address)
		}
	}
}
