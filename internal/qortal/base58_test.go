package qortal

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"
)

// refBase58Decode is an independent, obviously-correct (and slow) decoder built on
// math/big, used as the oracle for the optimised implementation.
func refBase58Decode(s string) ([]byte, bool) {
	n := new(big.Int)
	for _, c := range []byte(s) {
		i := strings.IndexByte(base58Alphabet, c)
		if i < 0 {
			return nil, false
		}
		n.Mul(n, big.NewInt(58))
		n.Add(n, big.NewInt(int64(i)))
	}
	zeros := len(s) - len(strings.TrimLeft(s, "1"))
	return append(make([]byte, zeros), n.Bytes()...), true
}

func refBase58Encode(b []byte) string {
	n := new(big.Int).SetBytes(b)
	var digits []byte
	mod := new(big.Int)
	for n.Sign() > 0 {
		n.DivMod(n, big.NewInt(58), mod)
		digits = append([]byte{base58Alphabet[mod.Int64()]}, digits...)
	}
	zeros := len(b) - len(bytes.TrimLeft(b, "\x00"))
	return strings.Repeat("1", zeros) + string(digits)
}

func TestBase58VectorPairs(t *testing.T) {
	v := loadVectors(t)
	for _, a := range v.Accounts {
		pairs := [][2]string{{a.PrivateKey58, a.PrivateKeyHex}, {a.PublicKey58, a.PublicKeyHex}}
		for _, p := range pairs {
			if p[1] == "" {
				continue
			}
			want, err := hex.DecodeString(p[1])
			if err != nil {
				t.Fatalf("%s: bad hex in vectors: %v", a.Name, err)
			}
			got, err := Base58Decode(p[0])
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: Base58Decode(%s) = %x, %v; want %x", a.Name, p[0], got, err, want)
			}
			if enc := Base58Encode(want); enc != p[0] {
				t.Errorf("%s: Base58Encode(%x) = %s, want %s", a.Name, want, enc, p[0])
			}
		}
	}
}

func TestBase58MatchesReference(t *testing.T) {
	inputs := [][]byte{
		{}, {0}, {0, 0, 0}, {1}, {57}, {58}, {255}, {0, 0, 1, 2, 3},
		bytes.Repeat([]byte{0xFF}, 64), bytes.Repeat([]byte{0}, 32),
		append([]byte{0, 0}, bytes.Repeat([]byte{0x80}, 100)...),
	}
	for i := 0; i < 300; i++ { // every length 0..299, varied content
		b := make([]byte, i)
		for j := range b {
			b[j] = byte(j*131 + i*7)
		}
		inputs = append(inputs, b)
	}
	for _, in := range inputs {
		enc := Base58Encode(in)
		if want := refBase58Encode(in); enc != want {
			t.Fatalf("Base58Encode(%x) = %q, reference %q", in, enc, want)
		}
		if len(in) == 0 {
			continue // the empty string is rejected on decode
		}
		dec, err := Base58Decode(enc)
		if err != nil || !bytes.Equal(dec, in) {
			t.Fatalf("Base58Decode(%q) = %x, %v; want %x", enc, dec, err, in)
		}
	}
}

func TestBase58DecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    error
		wantPos int
		char    rune
	}{
		{"empty", "", ErrBase58Empty, 0, 0},
		{"zero digit", "abc0def", ErrBase58Char, 4, '0'},
		{"capital O", "O", ErrBase58Char, 1, 'O'},
		{"capital I", "12I", ErrBase58Char, 3, 'I'},
		{"lower l", "Ql", ErrBase58Char, 2, 'l'},
		{"space", "Qg V4", ErrBase58Char, 3, ' '},
		{"trailing newline", "Qg\n", ErrBase58Char, 3, '\n'},
		{"non-ASCII counts characters", "ééx0", ErrBase58Char, 1, 'é'},
		{"invalid UTF-8", "ab\xff", ErrBase58Char, 3, '\uFFFD'},
		{"too long", strings.Repeat("2", MaxBase58Len+1), ErrBase58TooLong, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Base58Decode(tc.in)
			if !errors.Is(err, tc.want) || got != nil {
				t.Fatalf("Base58Decode(%q) = %x, %v; want error %v", tc.in, got, err, tc.want)
			}
			if tc.wantPos == 0 {
				return
			}
			var ce *Base58CharError
			if !errors.As(err, &ce) || ce.Pos != tc.wantPos || ce.Char != tc.char {
				t.Fatalf("error %#v, want char %q at position %d", err, tc.char, tc.wantPos)
			}
			if !strings.Contains(err.Error(), "position") {
				t.Errorf("message %q does not say where", err)
			}
		})
	}
}

func TestBase58DecodeAcceptsMaxLen(t *testing.T) {
	s := strings.Repeat("z", MaxBase58Len)
	got, err := Base58Decode(s)
	want, _ := refBase58Decode(s)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("max-length input: err %v, match %v", err, bytes.Equal(got, want))
	}
}

func FuzzBase58Decode(f *testing.F) {
	v := loadVectors(f)
	for _, a := range v.Accounts {
		f.Add(a.PrivateKey58)
		f.Add(a.PublicKey58)
		f.Add(a.Address)
	}
	f.Add(v.TransactionSignature.Signature58)
	f.Add("111")
	f.Add("1z0")
	f.Fuzz(func(t *testing.T, s string) {
		dec, err := Base58Decode(s)
		ref, refOK := refBase58Decode(s)
		if len(s) > MaxBase58Len || s == "" {
			refOK = false
		}
		if (err == nil) != refOK {
			t.Fatalf("Base58Decode(%q) err %v, reference ok=%v", s, err, refOK)
		}
		if err == nil {
			if !bytes.Equal(dec, ref) {
				t.Fatalf("Base58Decode(%q) = %x, reference %x", s, dec, ref)
			}
			// Base58 is a bijection, so a decodable string must re-encode to itself.
			if enc := Base58Encode(dec); enc != s {
				t.Fatalf("round trip %q -> %x -> %q", s, dec, enc)
			}
		}
		// 5000 bytes encode to under MaxBase58Len characters.
		if raw := []byte(s); len(raw) > 0 && len(raw) <= 5000 {
			back, err := Base58Decode(Base58Encode(raw))
			if err != nil || !bytes.Equal(back, raw) {
				t.Fatalf("bytes round trip %x -> %x, %v", raw, back, err)
			}
		}
	})
}

func BenchmarkBase58Decode(b *testing.B) {
	v := loadVectors(b)
	cases := []struct{ name, s string }{
		{"address", v.Accounts[0].Address},
		{"publicKey", v.Accounts[0].PublicKey58},
		{"signature", v.TransactionSignature.Signature58},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Base58Decode(c.s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBase58Encode(b *testing.B) {
	sig := bytes.Repeat([]byte{0xA5}, 64)
	b.ReportAllocs()
	for b.Loop() {
		_ = Base58Encode(sig)
	}
}
