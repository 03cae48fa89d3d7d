package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
)

// keygen writes a usable key (0600, Base58 seed) and prints the address
// last; address and sign agree with it; an existing file is never replaced.
func TestKeygenAddressAndSign(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "my.key")
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"keygen", "--out", path}, nil, &out, &errOut); err != nil {
		t.Fatalf("keygen: %v %s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	addr := lines[len(lines)-1]
	if err := qortal.ValidateAddress(addr); err != nil {
		t.Fatalf("last line %q is not an address: %v", addr, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v: want 0600", st.Mode(), err)
	}
	raw, _ := os.ReadFile(path)
	priv, err := qortal.ParsePrivateKey(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatalf("key file does not parse: %v", err)
	}
	if got := qortal.AddressFromPublicKey(priv.Public().(ed25519.PublicKey)); got != addr {
		t.Errorf("the file's key is %s, keygen printed %s", got, addr)
	}
	if strings.Contains(out.String(), strings.TrimSpace(string(raw))) {
		t.Error("keygen printed the private key")
	}

	out.Reset()
	if err := run(ctx, []string{"address", path}, nil, &out, &errOut); err != nil || strings.TrimSpace(out.String()) != addr {
		t.Errorf("address FILE = %q, %v; want %s", out.String(), err, addr)
	}
	pub := strings.Fields(lines[len(lines)-2])[2]
	out.Reset()
	if err := run(ctx, []string{"address", pub}, nil, &out, &errOut); err != nil || strings.TrimSpace(out.String()) != addr {
		t.Errorf("address PUBKEY = %q, %v; want %s", out.String(), err, addr)
	}
	out.Reset()
	msg := "a challenge"
	if err := run(ctx, []string{"sign", "--key-file", path}, strings.NewReader(msg), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"address":"`+addr+`"`) {
		t.Errorf("sign with the new key: %s", out.String())
	}

	before, _ := os.ReadFile(path)
	if err := run(ctx, []string{"keygen", "--out", path}, nil, &out, &errOut); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("keygen over an existing file: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("keygen replaced an existing key")
	}
	if err := run(ctx, []string{"keygen"}, nil, &out, &errOut); err == nil {
		t.Error("keygen without --out succeeded")
	}
	if err := run(ctx, []string{"address", "not-a-key"}, nil, &out, &errOut); err == nil {
		t.Error("address of garbage succeeded")
	}
}
