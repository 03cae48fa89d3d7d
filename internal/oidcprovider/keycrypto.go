package oidcprovider

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// rsaBits: user_oidc rejects RSA keys under 2048 bits; 2048 keeps signing
// (every token request) and key generation (every rotation) cheap.
const rsaBits = 2048

// sealVersion prefixes every encrypted private key so the format can change.
const sealVersion byte = 1

func validAlg(alg string) error {
	switch alg {
	case "RS256", "ES256", "EdDSA":
		return nil
	}
	return fmt.Errorf("signing algorithm %q is not one of RS256, ES256, EdDSA", alg)
}

// generateKey makes a fresh private key for alg.
func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case "RS256":
		return rsa.GenerateKey(rand.Reader, rsaBits)
	case "ES256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, validAlg(alg)
}

// thumbprintKID is the RFC 7638 SHA-256 thumbprint of the public key: stable,
// unique per key, and derivable by anyone holding the JWK.
func thumbprintKID(pub crypto.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

func publicJWK(pub crypto.PublicKey, kid, alg string) ([]byte, error) {
	b, err := (&jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"}).MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("marshal public jwk: %w", err)
	}
	return b, nil
}

// sealPrivateKey encrypts the PKCS#8 form of priv with AES-256-GCM under kek.
// kid and alg are authenticated data: a ciphertext copied onto another row
// fails to open instead of silently signing under the wrong kid.
func sealPrivateKey(kek []byte, kid, alg string, priv crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	out := append([]byte{sealVersion}, nonce...)
	return aead.Seal(out, nonce, der, []byte(kid+"|"+alg)), nil
}

// openPrivateKey reverses sealPrivateKey.
func openPrivateKey(kek []byte, kid, alg string, sealed []byte) (crypto.Signer, error) {
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+aead.NonceSize() || sealed[0] != sealVersion {
		return nil, errors.New("encrypted private key: unknown format")
	}
	nonce, ct := sealed[1:1+aead.NonceSize()], sealed[1+aead.NonceSize():]
	der, err := aead.Open(nil, nonce, ct, []byte(kid+"|"+alg))
	if err != nil {
		return nil, fmt.Errorf("decrypt private key %s (wrong key encryption key?): %w", kid, err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse private key %s: %w", kid, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key %s cannot sign", kid)
	}
	return signer, nil
}

func newAEAD(kek []byte) (cipher.AEAD, error) {
	if len(kek) != 32 {
		return nil, fmt.Errorf("key encryption key must be 32 bytes, got %d", len(kek))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return aead, nil
}
