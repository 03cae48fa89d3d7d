// Package qortaltest loads the Qortal test accounts (keys and addresses from
// Qortal core's own tests, copied to testdata/qortal-vectors.json) for the
// tests of any package. It is not a _test.go file because it is imported
// across packages.
package qortaltest

import (
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
)

// Account is one Qortal test identity.
type Account struct {
	Name          string `json:"name"`
	Address       string `json:"address"`
	PublicKey58   string `json:"publicKey58"`
	PublicKeyHex  string `json:"publicKeyHex"`
	PrivateKey58  string `json:"privateKey58"`
	PrivateKeyHex string `json:"privateKeyHex"`
	// PrivateKey is PrivateKey58 parsed.
	PrivateKey ed25519.PrivateKey `json:"-"`
}

// Required names the accounts the project's tests sign with; Accounts
// fails when one is missing.
func Required() []string { return []string{"alice", "bob", "chloe"} }

// VectorsPath is the project's copy of the vectors, found from this source
// file so that it works from the tests of any package.
func VectorsPath(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("qortaltest: cannot locate its own source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "qortal-vectors.json")
}

// Accounts returns the test accounts by name; it fails the test when the
// vectors are missing, malformed, or lack an account the tests use.
func Accounts(t testing.TB) map[string]Account {
	t.Helper()
	path := VectorsPath(t)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read Qortal test vectors: %v", err)
	}
	var v struct {
		Accounts []Account `json:"accounts"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	out := map[string]Account{}
	for _, a := range v.Accounts {
		if a.Address == "" || a.PublicKey58 == "" {
			t.Fatalf("%s: account %q lacks an address or public key", path, a.Name)
		}
		if a.PrivateKey, err = qortal.ParsePrivateKey(a.PrivateKey58); err != nil {
			t.Fatalf("%s: account %q key: %v", path, a.Name, err)
		}
		out[a.Name] = a
	}
	for _, n := range Required() {
		if _, ok := out[n]; !ok {
			t.Fatalf("%s lacks account %q", path, n)
		}
	}
	return out
}

// SmallOrderProof is the forged proof from issue 7: the identity point
// (0x01 followed by 31 zero bytes) as public key and R = that point, S = 0 as
// signature, which plain RFC 8032 verification (crypto/ed25519) accepts for
// every message. Its address is SmallOrderAddress.
func SmallOrderProof() (publicKey58, signature58 string) {
	pub := make([]byte, 32)
	pub[0] = 1
	sig := append(append([]byte{}, pub...), make([]byte, 32)...)
	return qortal.Base58Encode(pub), qortal.Base58Encode(sig)
}

// SmallOrderAddress is the address of SmallOrderProof's key.
const SmallOrderAddress = "QZqU6Si7xpXbdMHMxk3hcTyQHeZj2CFc3q"
