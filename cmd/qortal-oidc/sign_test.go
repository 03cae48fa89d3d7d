package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
)

// signVectors returns alice and bob from the project's copy of Qortal core's test vectors.
func signVectors(t *testing.T) (alice, bob qortaltest.Account) {
	t.Helper()
	accts := qortaltest.Accounts(t)
	return accts["alice"], accts["bob"]
}

func writeFile(t *testing.T, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // WriteFile's mode is subject to umask
		t.Fatal(err)
	}
	return p
}

type signResult struct {
	out, errOut string
	err         error
}

func sign(args []string, stdin string) signResult {
	var out, errOut bytes.Buffer
	err := runSign(args, strings.NewReader(stdin), &out, &errOut)
	return signResult{out.String(), errOut.String(), err}
}

// checkProof parses sign's output and verifies it independently with crypto/ed25519.
func checkProof(t *testing.T, out string, acct qortaltest.Account, msg []byte) {
	t.Helper()
	if !strings.HasSuffix(out, "}\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("output %q is not one JSON line", out)
	}
	var fields map[string]string
	if err := json.Unmarshal([]byte(out), &fields); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if len(fields) != 3 || fields["address"] != acct.Address || fields["publicKey"] != acct.PublicKey58 {
		t.Fatalf("output %v, want address %s and public key %s", fields, acct.Address, acct.PublicKey58)
	}
	pub, err := qortal.Base58Decode(fields["publicKey"])
	if err != nil {
		t.Fatal(err)
	}
	sig, err := qortal.Base58Decode(fields["signature"])
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(pub, msg, sig) {
		t.Fatalf("signature does not verify over %q", msg)
	}
}

func TestSignFromStdin(t *testing.T) {
	alice, _ := signVectors(t)
	key := writeFile(t, "key", alice.PrivateKey58+"\n", 0o600)
	msg := "qortal-oidc login\nchallenge: 9f2c"
	r := sign([]string{"--key-file", key}, msg)
	if r.err != nil {
		t.Fatalf("runSign: %v (stderr %q)", r.err, r.errOut)
	}
	checkProof(t, r.out, alice, []byte(msg))
	if r.errOut != "" {
		t.Errorf("unexpected stderr %q", r.errOut)
	}
}

func TestSignKeyForms(t *testing.T) {
	alice, _ := signVectors(t)
	seed, err := hex.DecodeString(alice.PrivateKeyHex)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := qortal.Base58Decode(alice.PublicKey58)
	hub := append(append([]byte{}, seed...), pub...)
	for name, content := range map[string]string{
		"hex seed":          alice.PrivateKeyHex,
		"hub export base58": qortal.Base58Encode(hub),
		"hub export hex":    "0x" + hex.EncodeToString(hub) + "\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			r := sign([]string{"--key-file", writeFile(t, "key", content, 0o600)}, "m")
			if r.err != nil {
				t.Fatal(r.err)
			}
			checkProof(t, r.out, alice, []byte("m"))
		})
	}
}

func TestSignMessageFileIsSignedExactly(t *testing.T) {
	alice, _ := signVectors(t)
	key := writeFile(t, "key", alice.PrivateKey58, 0o600)
	msg := "line one\r\n  indented\n\n"
	r := sign([]string{"--key-file", key, "--message-file", writeFile(t, "msg", msg, 0o644)}, "ignored stdin")
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkProof(t, r.out, alice, []byte(msg))
	if !strings.Contains(r.errOut, "ends with a newline") {
		t.Errorf("no trailing-newline note on stderr: %q", r.errOut)
	}
	// The same text without its trailing newline is a different message.
	var fields map[string]string
	_ = json.Unmarshal([]byte(r.out), &fields)
	if _, err := qortal.VerifyProof(fields["address"], fields["publicKey"], fields["signature"], []byte(strings.TrimRight(msg, "\n"))); !errors.Is(err, qortal.ErrBadSignature) {
		t.Fatalf("trimmed message verified: %v", err)
	}
}

func TestSignWarnsOnReadableKeyFile(t *testing.T) {
	alice, _ := signVectors(t)
	key := writeFile(t, "key", alice.PrivateKey58, 0o644)
	r := sign([]string{"--key-file", key}, "m")
	if r.err != nil {
		t.Fatalf("readable key file must only warn: %v", r.err)
	}
	if !strings.Contains(r.errOut, "warning") || !strings.Contains(r.errOut, "chmod 600") {
		t.Errorf("stderr %q lacks the permission warning", r.errOut)
	}
	checkProof(t, r.out, alice, []byte("m"))
}

func TestSignErrors(t *testing.T) {
	alice, bob := signVectors(t)
	seed, _ := hex.DecodeString(alice.PrivateKeyHex)
	bobPub, _ := qortal.Base58Decode(bob.PublicKey58)
	mismatched := qortal.Base58Encode(append(append([]byte{}, seed...), bobPub...))
	good := writeFile(t, "key", alice.PrivateKey58, 0o600)
	tests := []struct {
		name   string
		args   []string
		stdin  string
		secret string // must not appear in any output
		want   string
	}{
		{"no key file", nil, "m", "", "--key-file is required"},
		{"missing key file", []string{"--key-file", filepath.Join(t.TempDir(), "nope")}, "m", "", "open key file"},
		{"mismatched 64-byte export", []string{"--key-file", writeFile(t, "k", mismatched, 0o600)}, "m", mismatched, "does not belong"},
		{"garbage key", []string{"--key-file", writeFile(t, "k", alice.PrivateKey58+"0", 0o600)}, "m", alice.PrivateKey58, "invalid private key"},
		{"empty message", []string{"--key-file", good}, "", "", "message is empty"},
		{"missing message file", []string{"--key-file", good, "--message-file", filepath.Join(t.TempDir(), "nope")}, "", "", "open message file"},
		{"extra argument", []string{"--key-file", good, "hello"}, "m", "", "unexpected arguments"},
		{"unknown flag", []string{"--key", good}, "m", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := sign(tc.args, tc.stdin)
			if r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
				t.Fatalf("runSign error %v, want one containing %q", r.err, tc.want)
			}
			if r.out != "" {
				t.Errorf("stdout %q on failure", r.out)
			}
			if tc.secret != "" && (strings.Contains(r.errOut, tc.secret) || strings.Contains(r.err.Error(), tc.secret)) {
				t.Errorf("key material leaked: %v / %q", r.err, r.errOut)
			}
		})
	}
}

func TestSignNeverPrintsPrivateKey(t *testing.T) {
	alice, _ := signVectors(t)
	r := sign([]string{"--key-file", writeFile(t, "key", alice.PrivateKey58, 0o644)}, "m\n")
	if r.err != nil {
		t.Fatal(r.err)
	}
	all := strings.ToLower(r.out + r.errOut)
	for _, secret := range []string{alice.PrivateKey58, alice.PrivateKeyHex} {
		if strings.Contains(all, strings.ToLower(secret)) {
			t.Fatalf("output contains the private key: %q", r.out+r.errOut)
		}
	}
}

func TestSignHelp(t *testing.T) {
	r := sign([]string{"-h"}, "")
	if !errors.Is(r.err, flag.ErrHelp) || !strings.Contains(r.errOut, "printf '%s'") || !strings.Contains(r.errOut, "-key-file") {
		t.Fatalf("help: %v, stderr %q", r.err, r.errOut)
	}
}
