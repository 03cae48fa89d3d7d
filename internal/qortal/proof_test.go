package qortal

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
)

// TestTransactionSignatureVector is core's CryptoTests.verifySignature: alice's signature
// over a serialised PAYMENT transaction.
func TestTransactionSignatureVector(t *testing.T) {
	v := loadVectors(t)
	ts := v.TransactionSignature
	_, _, pub58, _, addr := v.account(t, ts.Signer)
	msg, err := hex.DecodeString(ts.MessageHex)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pub58)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := ParseSignature(ts.Signature58)
	if err != nil {
		t.Fatal(err)
	}
	if !Verify(pub, msg, sig) {
		t.Fatal("core's signature vector does not verify")
	}
	if _, err := VerifyProof(addr, pub58, ts.Signature58, msg); err != nil {
		t.Fatalf("VerifyProof on the vector: %v", err)
	}
	tampered := append([]byte{}, msg...)
	tampered[len(tampered)-1] ^= 1
	if Verify(pub, tampered, sig) {
		t.Fatal("signature verifies over a modified message")
	}
}

func TestVerifyRejectsMalformedInputs(t *testing.T) {
	v := loadVectors(t)
	pub, _ := ParsePublicKey(v.Accounts[0].PublicKey58)
	sig, _ := ParseSignature(v.TransactionSignature.Signature58)
	msg, _ := hex.DecodeString(v.TransactionSignature.MessageHex)
	if Verify(pub[:31], msg, sig) || Verify(nil, msg, sig) || Verify(pub, msg, sig[:63]) || Verify(pub, msg, nil) {
		t.Fatal("Verify accepted a wrong-sized key or signature")
	}
}

func TestVerifyProof(t *testing.T) {
	v := loadVectors(t)
	alicePriv, err := ParsePrivateKey(v.Accounts[0].PrivateKey58)
	if err != nil {
		t.Fatal(err)
	}
	bobPriv, err := ParsePrivateKey(v.Accounts[1].PrivateKey58)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("qortal-oidc login\nnonce: 3f9a\n")
	alice := Sign(alicePriv, msg)
	bob := Sign(bobPriv, msg)
	if alice.Address != v.Accounts[0].Address || alice.PublicKey != v.Accounts[0].PublicKey58 {
		t.Fatalf("Sign produced %+v, want alice's address and key from the vectors", alice)
	}
	tests := []struct {
		name              string
		address, pub, sig string
		msg               []byte
		want              error
	}{
		{"valid", alice.Address, alice.PublicKey, alice.Signature, msg, nil},
		{"signature by another key", alice.Address, alice.PublicKey, bob.Signature, msg, ErrBadSignature},
		{"address of a different key", bob.Address, alice.PublicKey, alice.Signature, msg, ErrAddressMismatch},
		{"other message", alice.Address, alice.PublicKey, alice.Signature, append(msg, '!'), ErrBadSignature},
		{"message without trailing newline", alice.Address, alice.PublicKey, alice.Signature, msg[:len(msg)-1], ErrBadSignature},
		{"bad address checksum", alice.Address[:33] + "w", alice.PublicKey, alice.Signature, msg, ErrAddressChecksum},
		{"bad public key", alice.Address, alice.PublicKey[:30], alice.Signature, msg, ErrBadPublicKey},
		{"bad signature encoding", alice.Address, alice.PublicKey, alice.Signature + "0", msg, ErrBadSignatureEncoding},
		{"public key as hex", alice.Address, v.Accounts[0].PublicKeyHex, alice.Signature, msg, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pub, err := VerifyProof(tc.address, tc.pub, tc.sig, tc.msg)
			if tc.want == nil {
				if err != nil || AddressFromPublicKey(pub) != tc.address {
					t.Fatalf("VerifyProof = %v, want success", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || pub != nil {
				t.Fatalf("VerifyProof = %x, %v; want %v", pub, err, tc.want)
			}
		})
	}
}

func TestSignIsPlainEd25519(t *testing.T) {
	v := loadVectors(t)
	priv, err := ParsePrivateKey(v.Accounts[2].PrivateKey58)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("x")
	p := Sign(priv, msg)
	sig, _ := Base58Decode(p.Signature)
	pub, _ := Base58Decode(v.Accounts[2].PublicKey58)
	// Checked with the standard library directly, not through this package's Verify.
	if !ed25519.Verify(pub, msg, sig) || p.Address != v.Accounts[2].Address {
		t.Fatalf("Sign(chloe) = %+v does not verify with the stdlib or has the wrong address", p)
	}
}

func TestProofJSONFieldNames(t *testing.T) {
	b, err := json.Marshal(Proof{Address: "a", PublicKey: "p", Signature: "s"})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != 3 || m["address"] != "a" || m["publicKey"] != "p" || m["signature"] != "s" {
		t.Fatalf("Proof JSON = %s", b)
	}
}

func BenchmarkVerify(b *testing.B) {
	v := loadVectors(b)
	pub, _ := ParsePublicKey(v.Accounts[0].PublicKey58)
	sig, _ := ParseSignature(v.TransactionSignature.Signature58)
	msg, _ := hex.DecodeString(v.TransactionSignature.MessageHex)
	b.ReportAllocs()
	for b.Loop() {
		if !Verify(pub, msg, sig) {
			b.Fatal("vector does not verify")
		}
	}
}

func BenchmarkVerifyProof(b *testing.B) {
	v := loadVectors(b)
	a := v.Accounts[0]
	msg, _ := hex.DecodeString(v.TransactionSignature.MessageHex)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyProof(a.Address, a.PublicKey58, v.TransactionSignature.Signature58, msg); err != nil {
			b.Fatal(err)
		}
	}
}
