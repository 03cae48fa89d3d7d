package oidcprovider

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/op"
)

func testSeal(t *testing.T, key []byte, legacy op.Decrypter) *tokenSeal {
	t.Helper()
	s, err := newTokenSeal(key, legacy)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokenSealRoundTripAndRefusals(t *testing.T) {
	key, other := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	s := testSeal(t, key, nil)
	const plain = "at_0123456789:alice"
	tok, err := s.Encrypt(plain)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, tokenSealPrefix) || strings.Contains(tok, "alice") {
		t.Fatalf("token %q: want the %s prefix and nothing readable", tok, tokenSealPrefix)
	}
	if got, err := s.Decrypt(tok); err != nil || got != plain {
		t.Fatalf("Decrypt = %q, %v; want %q", got, err, plain)
	}
	if again, _ := s.Encrypt(plain); again == tok {
		t.Error("two seals of one value are equal: the nonce is not fresh")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, tokenSealPrefix))
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)-1] ^= 1
	// A value sealed under the same key for another purpose (other
	// associated data) must not open as a token either.
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	otherUse := append(nonce, s.aead.Seal(nil, nonce, []byte(plain), []byte("something else"))...)
	for name, bad := range map[string]string{
		"tampered":       tokenSealPrefix + base64.RawURLEncoding.EncodeToString(flipped),
		"truncated":      tok[:len(tokenSealPrefix)+10],
		"not base64":     tokenSealPrefix + "!!!!",
		"empty":          tokenSealPrefix,
		"other key":      func() string { v, _ := testSeal(t, other, nil).Encrypt(plain); return v }(),
		"other use":      tokenSealPrefix + base64.RawURLEncoding.EncodeToString(otherUse),
		"no prefix":      strings.TrimPrefix(tok, tokenSealPrefix),
		"a JWS":          "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhIn0.c2ln",
		"nothing at all": "",
	} {
		if got, err := s.Decrypt(bad); err == nil {
			t.Errorf("%s: Decrypt(%q) = %q, want an error", name, bad, got)
		}
	}
}

// Tokens issued by op's JWE crypto before the switch keep working until
// they expire; new ones are sealed.
func TestTokenSealOpensLegacyTokens(t *testing.T) {
	var k [32]byte
	copy(k[:], bytes.Repeat([]byte{7}, 32))
	jwe := op.NewAES256GCMCrypto(k, "")
	old, err := jwe.Encrypt("at_old:bob")
	if err != nil {
		t.Fatal(err)
	}
	s := testSeal(t, bytes.Repeat([]byte{9}, 32), op.NewCompositeCrypto(jwe, []op.Decrypter{jwe}))
	if got, err := s.Decrypt(old); err != nil || got != "at_old:bob" {
		t.Errorf("legacy token: %q, %v", got, err)
	}
	if _, err := testSeal(t, bytes.Repeat([]byte{9}, 32), nil).Decrypt(old); err == nil {
		t.Error("a legacy token opened without the legacy crypto")
	}
}

func BenchmarkTokenCrypto(b *testing.B) {
	var k [32]byte
	for name, c := range map[string]op.Crypto{
		"seal": func() op.Crypto { s, _ := newTokenSeal(k[:], nil); return s }(),
		"jwe":  op.NewAES256GCMCrypto(k, ""),
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				tok, err := c.Encrypt("at_0123456789abcdef0123:some-user")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Decrypt(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
