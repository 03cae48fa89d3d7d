package qortal

import (
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Key and signature parse errors, usable with errors.Is.
var (
	ErrBadPublicKey         = errors.New("invalid public key: expected 32 bytes in Base58 or hex")
	ErrBadSignatureEncoding = errors.New("invalid signature: expected 64 bytes in Base58 or hex")
	ErrBadPrivateKey        = errors.New("invalid private key: expected a 32-byte seed or a 64-byte Qortal Hub export, in Base58 or hex")
	// ErrPrivateKeyMismatch also matches ErrBadPrivateKey.
	ErrPrivateKeyMismatch = errors.New("private key's public-key half does not belong to its seed: corrupted export?")
)

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
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := decodeKeyString(s, 2*ed25519.PublicKeySize)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPublicKey, err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: got %d bytes", ErrBadPublicKey, len(b))
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
