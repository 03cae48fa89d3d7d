package qortal

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestParsePrivateKeyVectors(t *testing.T) {
	v := loadVectors(t)
	for _, a := range v.Accounts {
		seed, err := Base58Decode(a.PrivateKey58)
		if err != nil {
			t.Fatalf("%s: %v", a.Name, err)
		}
		pub, err := Base58Decode(a.PublicKey58)
		if err != nil {
			t.Fatalf("%s: %v", a.Name, err)
		}
		hub := append(append([]byte{}, seed...), pub...) // Qortal Hub's seed||public export
		forms := map[string]string{
			"seed base58":           a.PrivateKey58,
			"seed hex":              hex.EncodeToString(seed),
			"seed 0x hex":           "0x" + hex.EncodeToString(seed),
			"seed upper hex":        strings.ToUpper(hex.EncodeToString(seed)),
			"seed with whitespace":  "  " + a.PrivateKey58 + "\n",
			"hub export base58":     Base58Encode(hub),
			"hub export hex":        hex.EncodeToString(hub),
			"hub export 0X hex":     "0X" + hex.EncodeToString(hub),
			"hub export whitespace": "\t" + Base58Encode(hub) + "\r\n",
		}
		if a.PrivateKeyHex != "" {
			forms["vector hex"] = a.PrivateKeyHex
		}
		for form, s := range forms {
			t.Run(a.Name+"/"+form, func(t *testing.T) {
				priv, err := ParsePrivateKey(s)
				if err != nil {
					t.Fatalf("ParsePrivateKey: %v", err)
				}
				if got := Base58Encode(priv.Public().(ed25519.PublicKey)); got != a.PublicKey58 {
					t.Errorf("public key %s, want %s", got, a.PublicKey58)
				}
				if !bytes.Equal(priv.Seed(), seed) {
					t.Errorf("seed changed")
				}
			})
		}
	}
}

func TestParsePrivateKeyErrors(t *testing.T) {
	v := loadVectors(t)
	alice, _ := Base58Decode(v.Accounts[0].PrivateKey58)
	bobPub, _ := Base58Decode(v.Accounts[1].PublicKey58)
	mismatched := append(append([]byte{}, alice...), bobPub...)
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"64-byte export with another account's public half", Base58Encode(mismatched), ErrPrivateKeyMismatch},
		{"mismatched hex export", hex.EncodeToString(mismatched), ErrPrivateKeyMismatch},
		{"31 bytes", Base58Encode(alice[:31]), ErrBadPrivateKey},
		{"33 bytes", Base58Encode(append(alice, 1)), ErrBadPrivateKey},
		{"63 hex digits", hex.EncodeToString(alice)[:63], ErrBadPrivateKey},
		{"0x with wrong length", "0x" + hex.EncodeToString(alice[:30]), ErrBadPrivateKey},
		{"64 chars but not hex", strings.Repeat("g", 64), ErrBadPrivateKey},
		{"empty", "", ErrBadPrivateKey},
		{"only whitespace", " \n", ErrBadPrivateKey},
		{"invalid Base58", v.Accounts[0].PrivateKey58[:10] + "0" + v.Accounts[0].PrivateKey58[11:], ErrBadPrivateKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			priv, err := ParsePrivateKey(tc.in)
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrBadPrivateKey) || priv != nil {
				t.Fatalf("ParsePrivateKey = %v, want %v", err, tc.want)
			}
			// The secret must never leak through an error message that may get logged.
			if tc.in != "" && strings.TrimSpace(tc.in) != "" && strings.Contains(err.Error(), strings.TrimSpace(tc.in)) {
				t.Errorf("error message contains the key: %v", err)
			}
		})
	}
}

func TestParsePrivateKeyErrorHidesCharacter(t *testing.T) {
	_, err := ParsePrivateKey("A9MNsATgQgruBUjxy2rjWY36Yf19uRioKZbiLFT2P7cO")
	if err == nil || strings.Contains(err.Error(), "'O'") || !strings.Contains(err.Error(), "position 44") {
		t.Fatalf("got %v, want position without the character", err)
	}
}

func TestParsePublicKey(t *testing.T) {
	v := loadVectors(t)
	a := v.Accounts[0]
	want, _ := hex.DecodeString(a.PublicKeyHex)
	good := []string{a.PublicKey58, a.PublicKeyHex, "0x" + a.PublicKeyHex, strings.ToUpper(a.PublicKeyHex), " " + a.PublicKey58 + "\n"}
	for _, s := range good {
		pub, err := ParsePublicKey(s)
		if err != nil || !bytes.Equal(pub, want) {
			t.Errorf("ParsePublicKey(%q) = %x, %v; want %x", s, pub, err, want)
		}
	}
	bad := []string{"", a.PublicKey58[:40], a.PublicKeyHex[:62], a.PublicKeyHex + "00", "0x" + a.PublicKeyHex[:10],
		strings.Repeat("z", 64), a.Address, v.TransactionSignature.Signature58, a.PublicKey58 + "0"}
	for _, s := range bad {
		if pub, err := ParsePublicKey(s); !errors.Is(err, ErrBadPublicKey) || pub != nil {
			t.Errorf("ParsePublicKey(%q) = %x, %v; want ErrBadPublicKey", s, pub, err)
		}
	}
}

func TestParseSignature(t *testing.T) {
	v := loadVectors(t)
	s58 := v.TransactionSignature.Signature58
	want, err := Base58Decode(s58)
	if err != nil || len(want) != 64 {
		t.Fatalf("vector signature: %x, %v", want, err)
	}
	h := hex.EncodeToString(want)
	for _, s := range []string{s58, h, "0x" + h, strings.ToUpper(h), "\n" + s58 + " "} {
		sig, err := ParseSignature(s)
		if err != nil || !bytes.Equal(sig, want) {
			t.Errorf("ParseSignature(%q) = %x, %v", s, sig, err)
		}
	}
	for _, s := range []string{"", s58[:80], h[:126], h + "ab", v.Accounts[0].PublicKey58, "0x" + h[:64], strings.Repeat("x", 128)} {
		if sig, err := ParseSignature(s); !errors.Is(err, ErrBadSignatureEncoding) || sig != nil {
			t.Errorf("ParseSignature(%q) = %x, %v; want ErrBadSignatureEncoding", s, sig, err)
		}
	}
}

func FuzzParsePublicKey(f *testing.F) {
	v := loadVectors(f)
	for _, a := range v.Accounts {
		f.Add(a.PublicKey58)
		if a.PublicKeyHex != "" {
			f.Add("0x" + a.PublicKeyHex)
		}
	}
	f.Add(strings.Repeat("0", 64))
	f.Fuzz(func(t *testing.T, s string) {
		pub, err := ParsePublicKey(s)
		if err != nil {
			if !(errors.Is(err, ErrBadPublicKey) || errors.Is(err, ErrWeakPublicKey)) || pub != nil {
				t.Fatalf("ParsePublicKey(%q) = %x, %v", s, pub, err)
			}
			return
		}
		if len(pub) != ed25519.PublicKeySize {
			t.Fatalf("ParsePublicKey(%q) returned %d bytes", s, len(pub))
		}
		again, err := ParsePublicKey(Base58Encode(pub))
		if err != nil || !bytes.Equal(again, pub) {
			t.Fatalf("re-parse of %x: %x, %v", pub, again, err)
		}
	})
}

func FuzzParseSignature(f *testing.F) {
	v := loadVectors(f)
	f.Add(v.TransactionSignature.Signature58)
	f.Add(strings.Repeat("ab", 64))
	f.Add("0x")
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := ParseSignature(s)
		if err != nil {
			if !errors.Is(err, ErrBadSignatureEncoding) || sig != nil {
				t.Fatalf("ParseSignature(%q) = %x, %v", s, sig, err)
			}
			return
		}
		if len(sig) != ed25519.SignatureSize {
			t.Fatalf("ParseSignature(%q) returned %d bytes", s, len(sig))
		}
		again, err := ParseSignature(hex.EncodeToString(sig))
		if err != nil || !bytes.Equal(again, sig) {
			t.Fatalf("re-parse of %x: %x, %v", sig, again, err)
		}
	})
}

func FuzzParsePrivateKey(f *testing.F) {
	v := loadVectors(f)
	for _, a := range v.Accounts {
		f.Add(a.PrivateKey58)
		seed, _ := Base58Decode(a.PrivateKey58)
		pub, _ := Base58Decode(a.PublicKey58)
		f.Add(Base58Encode(append(seed, pub...)))
		f.Add(hex.EncodeToString(append(seed, pub...)))
	}
	f.Fuzz(func(t *testing.T, s string) {
		priv, err := ParsePrivateKey(s)
		if err != nil {
			if !errors.Is(err, ErrBadPrivateKey) || priv != nil {
				t.Fatalf("ParsePrivateKey = %v (nil key %v)", err, priv == nil)
			}
			return
		}
		if len(priv) != ed25519.PrivateKeySize {
			t.Fatalf("key of %d bytes", len(priv))
		}
		// The public half must always be the one the seed derives.
		if !bytes.Equal(ed25519.NewKeyFromSeed(priv.Seed()), priv) {
			t.Fatalf("inconsistent key pair")
		}
	})
}
