package oidcprovider

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// TestSignMatchesGoJose: signingKey.sign's tokens verify with go-jose
// against the public key for every algorithm the broker signs with, carry
// the protected header go-jose writes for the same key and type, and a
// changed payload or a signature under another key fails verification.
func TestSignMatchesGoJose(t *testing.T) {
	payload := []byte(`{"iss":"https://id.example","sub":"alice","n":"<&>"}`)
	for _, alg := range []string{"EdDSA", "ES256", "RS256"} {
		priv, err := generateKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		kid, err := thumbprintKID(priv.Public())
		if err != nil {
			t.Fatal(err)
		}
		k := &signingKey{id: kid, alg: jose.SignatureAlgorithm(alg), key: priv}
		for _, typ := range []string{"JWT", typAccessToken, "logout+jwt"} {
			tok, err := k.sign(typ, payload)
			if err != nil {
				t.Fatalf("%s %s: %v", alg, typ, err)
			}
			jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{k.alg})
			if err != nil {
				t.Fatalf("%s %s: go-jose cannot parse %q: %v", alg, typ, tok, err)
			}
			got, err := jws.Verify(priv.Public())
			if err != nil || !bytes.Equal(got, payload) {
				t.Fatalf("%s %s: verify = %q, %v", alg, typ, got, err)
			}
			h := jws.Signatures[0].Protected
			if h.KeyID != kid || h.Algorithm != alg || h.ExtraHeaders[jose.HeaderType] != typ {
				t.Errorf("%s %s: header %+v", alg, typ, h)
			}

			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: &jose.JSONWebKey{Key: priv, KeyID: kid}},
				(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
			if err != nil {
				t.Fatal(err)
			}
			ref, err := signer.Sign(payload)
			if err != nil {
				t.Fatal(err)
			}
			refTok, _ := ref.CompactSerialize()
			if mine, theirs, _ := strings.Cut(tok, "."); strings.Split(refTok, ".")[0] != mine {
				t.Errorf("%s %s: header %s, go-jose writes %s (%s)", alg, typ, mine, strings.Split(refTok, ".")[0], theirs)
			}

			parts := strings.Split(tok, ".")
			other := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"mallory"}`))
			if forged, err := jose.ParseSigned(parts[0]+"."+other+"."+parts[2], []jose.SignatureAlgorithm{k.alg}); err == nil {
				if _, err := forged.Verify(priv.Public()); err == nil {
					t.Errorf("%s %s: a changed payload verified", alg, typ)
				}
			}
			stranger, _ := generateKey(alg)
			if _, err := jws.Verify(stranger.Public()); err == nil {
				t.Errorf("%s %s: verified under another key", alg, typ)
			}
		}
	}
}

// TestSignRefusesAMismatchedKey: an algorithm the key cannot make is an
// error, not a token.
func TestSignRefusesAMismatchedKey(t *testing.T) {
	priv, _ := generateKey("ES256")
	for _, alg := range []jose.SignatureAlgorithm{jose.EdDSA, jose.RS256, jose.ES384, jose.HS256} {
		if tok, err := (&signingKey{id: "k", alg: alg, key: priv}).sign("JWT", []byte(`{}`)); err == nil {
			t.Errorf("%s with a P-256 key signed %q", alg, tok)
		}
	}
}
