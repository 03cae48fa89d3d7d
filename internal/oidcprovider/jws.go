package oidcprovider

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// sign returns the compact JWS of payload under k, with the protected
// header go-jose writes ({"alg","kid","typ"}, in that order). go-jose's
// signer costs a login more than the signature itself (it builds a JSON
// object model of the header and the signature); the three algorithms
// this broker signs with are a few lines each. jws_test.go verifies every
// algorithm's tokens with go-jose against the published key.
func (k *signingKey) sign(typ string, payload []byte) (string, error) {
	header, err := json.Marshal(struct {
		Alg jose.SignatureAlgorithm `json:"alg"`
		Kid string                  `json:"kid"`
		Typ string                  `json:"typ"`
	}{k.alg, k.id, typ})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	n := enc.EncodedLen(len(header)) + 1 + enc.EncodedLen(len(payload))
	out := make([]byte, n, n+1+enc.EncodedLen(512))
	enc.Encode(out, header)
	out[enc.EncodedLen(len(header))] = '.'
	enc.Encode(out[enc.EncodedLen(len(header))+1:], payload)
	sig, err := k.signature(out)
	if err != nil {
		return "", err
	}
	out = append(out, '.')
	return string(enc.AppendEncode(out, sig)), nil
}

// signature is RFC 7518's signature of input: Ed25519 as is, ECDSA as
// fixed-width r || s, RSA as PKCS #1 v1.5 over SHA-256.
func (k *signingKey) signature(input []byte) ([]byte, error) {
	switch key := k.key.(type) {
	case ed25519.PrivateKey:
		if k.alg == jose.EdDSA {
			return ed25519.Sign(key, input), nil
		}
	case *ecdsa.PrivateKey:
		if k.alg == jose.ES256 && key.Curve.Params().BitSize == 256 {
			sum := sha256.Sum256(input)
			r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
			if err != nil {
				return nil, err
			}
			sig := make([]byte, 64)
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:])
			return sig, nil
		}
	case *rsa.PrivateKey:
		if k.alg == jose.RS256 {
			sum := sha256.Sum256(input)
			return rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
		}
	}
	return nil, fmt.Errorf("sign: no signer for %s with a %T", k.alg, k.key)
}
