package qortal

import (
	"crypto/ed25519"
	"errors"
	"fmt"
)

// Proof errors, usable with errors.Is.
var (
	ErrAddressMismatch = errors.New("public key does not belong to this address")
	ErrBadSignature    = errors.New("signature does not verify")
)

// Proof is what a signer hands to the broker: the account, its public key (needed because
// a key is only on chain after the account's first transaction) and an Ed25519 signature,
// all Base58 as Qortal displays them.
type Proof struct {
	Address   string `json:"address"`
	PublicKey string `json:"publicKey"`
	Signature string `json:"signature"`
}

// Verify reports whether sig is a valid plain Ed25519 (RFC 8032, no prehash) signature of
// msg by pub, as core's Crypto.verify, except that keys CheckPublicKey refuses never
// verify (a small-order key "verifies" forged signatures). Wrong-sized keys or
// signatures are false.
func Verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false // ed25519.Verify panics on a bad key length
	}
	if CheckPublicKey(pub) != nil {
		return false
	}
	return ed25519.Verify(pub, msg, sig)
}

// VerifyProof checks that address is a valid Q-address, that publicKey derives to it and
// that signature signs msg with that key. It returns the parsed key on success. Errors
// match one of ErrAddress*, ErrBadPublicKey, ErrWeakPublicKey, ErrBadSignatureEncoding,
// ErrAddressMismatch or ErrBadSignature, in the order checked.
func VerifyProof(address, publicKey, signature string, msg []byte) (ed25519.PublicKey, error) {
	if err := ValidateAddress(address); err != nil {
		return nil, err
	}
	pub, err := ParsePublicKey(publicKey)
	if err != nil {
		return nil, err
	}
	sig, err := ParseSignature(signature)
	if err != nil {
		return nil, err
	}
	if got := AddressFromPublicKey(pub); got != address {
		return nil, fmt.Errorf("%w: key is for %s, not %s", ErrAddressMismatch, got, address)
	}
	// ParsePublicKey has run CheckPublicKey on pub: Verify would run it
	// again (it decompresses the point, a third of a verify's cost).
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, msg, sig) {
		return nil, ErrBadSignature
	}
	return pub, nil
}

// Sign signs msg with priv and returns the proof in the form VerifyProof accepts.
func Sign(priv ed25519.PrivateKey, msg []byte) Proof {
	pub := priv.Public().(ed25519.PublicKey)
	return Proof{
		Address:   AddressFromPublicKey(pub),
		PublicKey: Base58Encode(pub),
		Signature: Base58Encode(ed25519.Sign(priv, msg)),
	}
}
