package nextcloud

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 500; i++ {
		pw, err := generatePassword(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != 32 || !strings.ContainsAny(pw, pwUpper) || !strings.ContainsAny(pw, pwLower) ||
			!strings.ContainsAny(pw, pwDigits) || !strings.ContainsAny(pw, pwSymbols) {
			t.Fatalf("weak password %q", pw)
		}
		if seen[pw] {
			t.Fatal("repeated password")
		}
		seen[pw] = true
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestGeneratePasswordFailsWithoutEntropy(t *testing.T) {
	if _, err := generatePassword(failingReader{}); err == nil {
		t.Fatal("want error")
	}
}

func BenchmarkGeneratePassword(b *testing.B) {
	for b.Loop() {
		if _, err := generatePassword(rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}
