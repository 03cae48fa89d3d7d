package qortal

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestAddressFromPublicKeyVectors(t *testing.T) {
	v := loadVectors(t)
	type pair struct{ name, pubHex, addr string }
	var cases []pair
	for _, a := range v.Accounts {
		pub, err := Base58Decode(a.PublicKey58)
		if err != nil {
			t.Fatalf("%s: %v", a.Name, err)
		}
		cases = append(cases, pair{a.Name, hex.EncodeToString(pub), a.Address})
	}
	for _, p := range v.PublicKeyToAddress {
		cases = append(cases, pair{"publicKeyToAddress " + p.Address, p.PublicKeyHex, p.Address})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pub, err := hex.DecodeString(c.pubHex)
			if err != nil {
				t.Fatal(err)
			}
			if got := AddressFromPublicKey(ed25519.PublicKey(pub)); got != c.addr {
				t.Errorf("AddressFromPublicKey(%s) = %s, want %s", c.pubHex, got, c.addr)
			}
			if err := ValidateAddress(c.addr); err != nil {
				t.Errorf("ValidateAddress(%s) = %v", c.addr, err)
			}
		})
	}
}

// withChecksum appends a correct address checksum to version||hash.
func withChecksum(versionAndHash []byte) []byte {
	first := sha256.Sum256(versionAndHash)
	second := sha256.Sum256(first[:])
	return append(append([]byte{}, versionAndHash...), second[:4]...)
}

func TestValidateAddressErrors(t *testing.T) {
	v := loadVectors(t)
	good := v.Accounts[0].Address
	raw, err := Base58Decode(good)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		b := append([]byte{}, raw...)
		b[i] ^= 0x01
		return Base58Encode(b)
	}
	hash := raw[1:21]
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"flipped checksum byte", flip(AddressLen - 1), ErrAddressChecksum},
		{"flipped hash byte", flip(5), ErrAddressChecksum},
		{"mistyped character", good[:10] + "z" + good[11:], ErrAddressChecksum},
		{"AT address version", Base58Encode(withChecksum(append([]byte{23}, hash...))), ErrAddressVersion},
		{"Bitcoin P2PKH version", Base58Encode(withChecksum(append([]byte{0}, hash...))), ErrAddressVersion},
		{"hash one byte short", Base58Encode(withChecksum(append([]byte{AddressVersion}, hash[:19]...))), ErrAddressLength},
		{"hash one byte long", Base58Encode(withChecksum(append([]byte{AddressVersion}, append(hash, 7)...))), ErrAddressLength},
		{"truncated", good[:len(good)-3], ErrAddressLength},
		{"empty", "", ErrAddressLength},
		{"very long", strings.Repeat("Q", 1000), ErrAddressLength},
		{"zero digit", good[:5] + "0" + good[6:], ErrAddressEncoding},
		{"leading space", " " + good, ErrAddressEncoding},
		{"public key instead", v.Accounts[0].PublicKey58, ErrAddressLength},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateAddress(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ValidateAddress(%q) = %v, want %v", tc.in, err, tc.want)
			}
			for _, other := range []error{ErrAddressEncoding, ErrAddressLength, ErrAddressVersion, ErrAddressChecksum} {
				if other != tc.want && errors.Is(err, other) {
					t.Errorf("error %v also matches %v", err, other)
				}
			}
		})
	}
}

func TestValidateAddressEncodingNamesPosition(t *testing.T) {
	err := ValidateAddress("QgV4s3xnzLhVBEJxcYui4u4q11yhUHsd9O")
	var ce *Base58CharError
	if !errors.As(err, &ce) || ce.Pos != 34 || !errors.Is(err, ErrAddressEncoding) {
		t.Fatalf("got %v, want encoding error at position 34", err)
	}
}

func FuzzValidateAddress(f *testing.F) {
	v := loadVectors(f)
	for _, a := range v.Accounts {
		f.Add(a.Address)
		f.Add(a.Address[:20])
	}
	f.Add("QPc6TvGJ5RjW6LpwUtafx7XRCdRvyN6rsB")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateAddress(s)
		if err == nil {
			raw, derr := Base58Decode(s)
			if derr != nil || len(raw) != AddressLen || raw[0] != AddressVersion {
				t.Fatalf("accepted %q: decode %x, %v", s, raw, derr)
			}
			if want := Base58Encode(withChecksum(raw[:21])); want != s {
				t.Fatalf("accepted %q with wrong checksum (want %s)", s, want)
			}
			return
		}
		n := 0
		for _, e := range []error{ErrAddressEncoding, ErrAddressLength, ErrAddressVersion, ErrAddressChecksum} {
			if errors.Is(err, e) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("ValidateAddress(%q) = %v matches %d sentinels, want exactly 1", s, err, n)
		}
	})
}

func BenchmarkValidateAddress(b *testing.B) {
	addr := loadVectors(b).Accounts[0].Address
	b.ReportAllocs()
	for b.Loop() {
		if err := ValidateAddress(addr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAddressFromPublicKey(b *testing.B) {
	pub, err := Base58Decode(loadVectors(b).Accounts[0].PublicKey58)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = AddressFromPublicKey(pub)
	}
}
