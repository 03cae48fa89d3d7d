package qortal

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

// The forged proof from issue 7: the identity point as key, and R = identity,
// S = 0 as signature. crypto/ed25519 accepts it for every message.
func smallOrderVector() (pub ed25519.PublicKey, sig []byte) {
	pub = make([]byte, 32)
	pub[0] = 1
	return pub, append(append([]byte{}, pub...), make([]byte, 32)...)
}

func TestSmallOrderKeyForgesPlainEd25519(t *testing.T) {
	pub, sig := smallOrderVector()
	// The premise of the check: without it, this "proof" verifies.
	if !ed25519.Verify(pub, []byte("any message at all"), sig) {
		t.Fatal("crypto/ed25519 no longer accepts the small-order forgery; the premise changed")
	}
	if got := AddressFromPublicKey(pub); got != "QZqU6Si7xpXbdMHMxk3hcTyQHeZj2CFc3q" {
		t.Fatalf("address of the identity key = %s", got)
	}
}

func TestSmallOrderKeyIsRefusedOnEveryPath(t *testing.T) {
	pub, sig := smallOrderVector()
	pub58, sig58 := Base58Encode(pub), Base58Encode(sig)
	const addr = "QZqU6Si7xpXbdMHMxk3hcTyQHeZj2CFc3q"

	if Verify(pub, []byte("m"), sig) {
		t.Error("Verify accepted the small-order forgery")
	}
	if _, err := ParsePublicKey(pub58); !errors.Is(err, ErrWeakPublicKey) || errors.Is(err, ErrBadPublicKey) {
		t.Errorf("ParsePublicKey: %v, want ErrWeakPublicKey (and not ErrBadPublicKey)", err)
	}
	if _, err := VerifyProof(addr, pub58, sig58, []byte("m")); !errors.Is(err, ErrWeakPublicKey) {
		t.Errorf("VerifyProof: %v, want ErrWeakPublicKey", err)
	}
	// A MESSAGE transaction "signed" by the identity key.
	unsigned, err := BuildMessageTx(MessageTxParams{Timestamp: time.Unix(1700000000, 0), SenderPublicKey: pub, Data: []byte("challenge"), IsText: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSignedMessageTx(append(unsigned, sig...)); !errors.Is(err, ErrWeakPublicKey) || !errors.Is(err, ErrMessageTx) {
		t.Errorf("ParseSignedMessageTx: %v, want ErrMessageTx and ErrWeakPublicKey", err)
	}
}

func TestCheckPublicKey(t *testing.T) {
	mustHex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name string
		key  []byte
		ok   bool
	}{
		// The eight small-order points (torsion subgroup), in their canonical encodings.
		{"identity", mustHex("0100000000000000000000000000000000000000000000000000000000000000"), false},
		{"order 2", mustHex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), false},
		{"order 4", mustHex("0000000000000000000000000000000000000000000000000000000000000000"), false},
		{"order 4 neg", mustHex("0000000000000000000000000000000000000000000000000000000000000080"), false},
		{"order 8", mustHex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"), false},
		{"order 8 neg", mustHex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"), false},
		{"order 8 b", mustHex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"), false},
		{"order 8 b neg", mustHex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"), false},
		// y = p + 1: a non-canonical encoding of the identity (p = 2^255 - 19).
		{"non-canonical identity", mustHex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), false},
		// y = 2 is not on the curve.
		{"not a point", mustHex("0200000000000000000000000000000000000000000000000000000000000000"), false},
		{"short", []byte{1, 2, 3}, false},
		{"real key", ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey), true},
	}
	for _, c := range cases {
		err := CheckPublicKey(c.key)
		if (err == nil) != c.ok {
			t.Errorf("%s: CheckPublicKey = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}
