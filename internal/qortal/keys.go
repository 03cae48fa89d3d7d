package qortal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"filippo.io/edwards25519"
)

// Key and signature parse errors, usable with errors.Is.
var (
	ErrBadPublicKey         = errors.New("invalid public key: expected 32 bytes in Base58 or hex")
	ErrBadSignatureEncoding = errors.New("invalid signature: expected 64 bytes in Base58 or hex")
	ErrBadPrivateKey        = errors.New("invalid private key: expected a 32-byte seed or a 64-byte Qortal Hub export, in Base58 or hex")
	// ErrPrivateKeyMismatch also matches ErrBadPrivateKey.
	ErrPrivateKeyMismatch = errors.New("private key's public-key half does not belong to its seed: corrupted export?")
	// ErrWeakPublicKey is a 32-byte value that is not a usable Ed25519 key:
	// not a point, a non-canonical encoding, or a point of small order. It
	// deliberately does not match ErrBadPublicKey, so callers can answer it
	// with its own code (bad_public_key).
	ErrWeakPublicKey = errors.New("public key is not a canonical Ed25519 point of large order")
)

// CheckPublicKey refuses keys for which "the signature verifies" proves
// nothing. crypto/ed25519 follows RFC 8032's cofactorless check and accepts
// small-order keys: with A = identity (0x01 followed by 31 zero bytes) and
// the signature R = A, S = 0, the equation [S]B = R + [k]A holds for every
// message, so anyone could "prove" control of that key's address. A key must
// therefore decode to a point, be its canonical encoding (a second encoding
// of the same point would be a second address for one key), and keep a
// large-order part ([8]A is not the identity).
func CheckPublicKey(pub []byte) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: got %d bytes", ErrBadPublicKey, len(pub))
	}
	p, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return fmt.Errorf("%w: not a point on the curve", ErrWeakPublicKey)
	}
	if !bytes.Equal(p.Bytes(), pub) {
		return fmt.Errorf("%w: non-canonical encoding", ErrWeakPublicKey)
	}
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return fmt.Errorf("%w: small-order point", ErrWeakPublicKey)
	}
	return nil
}

// decodeKeyString decodes s as hex when, after an optional 0x prefix, it is exactly one
// of hexLens characters long, and as Base58 otherwise. The rule is unambiguous for the
// sizes used here: Base58 of 32 bytes is 43-44 characters and of 64 bytes 87-88, so a
// 64- or 128-character string could only be Base58 of a ~47- or ~94-byte value, which
// is never a valid key or signature anyway. A 0x prefix always means hex.
func decodeKeyString(s string, hexLens ...int) ([]byte, error) {
	s = strings.TrimSpace(s)
	digits, prefixed := strings.CutPrefix(s, "0x")
	if !prefixed {
		digits, prefixed = strings.CutPrefix(s, "0X")
	}
	isHexLen := false
	for _, n := range hexLens {
		isHexLen = isHexLen || len(digits) == n
	}
	if prefixed || isHexLen {
		if !isHexLen {
			want := make([]string, len(hexLens))
			for i, n := range hexLens {
				want[i] = fmt.Sprint(n)
			}
			return nil, fmt.Errorf("hex form must be %s hex digits, got %d", strings.Join(want, " or "), len(digits))
		}
		b, err := hex.DecodeString(digits)
		if err != nil {
			return nil, errors.New("not valid hex")
		}
		return b, nil
	}
	return Base58Decode(s)
}

// ParsePublicKey parses an Ed25519 account public key given as Base58 (as Qortal shows
// it) or hex (64 digits, optional 0x). Surrounding whitespace is ignored.
// Keys that CheckPublicKey refuses fail with ErrWeakPublicKey, so every proof
// path that parses a key refuses them.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := decodeKeyString(s, 2*ed25519.PublicKeySize)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPublicKey, err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: got %d bytes", ErrBadPublicKey, len(b))
	}
	if err := CheckPublicKey(b); err != nil {
		return nil, err
	}
	return ed25519.PublicKey(b), nil
}

// ParseSignature parses a 64-byte Ed25519 signature given as Base58 or hex (128 digits,
// optional 0x). Surrounding whitespace is ignored.
func ParseSignature(s string) ([]byte, error) {
	b, err := decodeKeyString(s, 2*ed25519.SignatureSize)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignatureEncoding, err)
	}
	if len(b) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: got %d bytes", ErrBadSignatureEncoding, len(b))
	}
	return b, nil
}

// ParsePrivateKey parses an account private key in the forms people actually have: the
// 32-byte seed Qortal core uses, or Qortal Hub's 64-byte export (tweetnacl secret key,
// seed || public key), each as Base58 or hex (64 or 128 digits, optional 0x).
// Surrounding whitespace is ignored. For the 64-byte form the public half must match the
// seed, because a mismatch means a corrupted or hand-edited export that would otherwise
// sign as a different account than the user expects.
//
// Errors never quote the input, since it is secret.
func ParsePrivateKey(s string) (ed25519.PrivateKey, error) {
	b, err := decodeKeyString(s, 2*ed25519.SeedSize, 2*ed25519.PrivateKeySize)
	if err != nil {
		var charErr *Base58CharError
		if errors.As(err, &charErr) {
			// Base58CharError names the character; of a secret, name only its position.
			return nil, fmt.Errorf("%w: invalid Base58 character at position %d", ErrBadPrivateKey, charErr.Pos)
		}
		return nil, fmt.Errorf("%w: %w", ErrBadPrivateKey, err)
	}
	defer clear(b)
	switch len(b) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(b), nil
	case ed25519.PrivateKeySize:
		priv := ed25519.NewKeyFromSeed(b[:ed25519.SeedSize])
		if subtle.ConstantTimeCompare(priv[ed25519.SeedSize:], b[ed25519.SeedSize:]) != 1 {
			clear(priv)
			return nil, fmt.Errorf("%w: %w", ErrBadPrivateKey, ErrPrivateKeyMismatch)
		}
		return priv, nil
	default:
		return nil, fmt.Errorf("%w: got %d bytes", ErrBadPrivateKey, len(b))
	}
}
