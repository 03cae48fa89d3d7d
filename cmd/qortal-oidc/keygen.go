package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
)

const keygenUsage = `Usage: qortal-oidc keygen --out FILE

Makes a new Qortal account key for trying the broker: writes its 32-byte
Ed25519 seed in Base58 to FILE (mode 0600; an existing file is never
overwritten) and prints the public key and, as the last line, the address.
Use it with "qortal-oidc sign --key-file FILE" or paste it into the login page.
A real account's key comes from Qortal Hub; this one is as good for signing in.

Flags:
`

// runKeygen implements the keygen subcommand.
func runKeygen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "file to write the new private key to (required; must not exist)")
	fs.Usage = func() {
		_, _ = io.WriteString(fs.Output(), keygenUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("keygen: unexpected arguments %q", fs.Args())
	}
	if *out == "" {
		fs.Usage()
		return errors.New("keygen: --out is required (the private key is never printed)")
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	defer clear(priv)
	seed := qortal.Base58Encode(priv.Seed())
	// O_EXCL: a typo must never replace somebody's key.
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("keygen: %s already exists: not overwriting a key file", *out)
		}
		return fmt.Errorf("keygen: %w", err)
	}
	if _, err := io.WriteString(f, seed+"\n"); err != nil {
		_ = f.Close()
		_ = os.Remove(*out)
		return fmt.Errorf("keygen: write %s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(*out)
		return fmt.Errorf("keygen: write %s: %w", *out, err)
	}
	fmt.Fprintf(stdout, "new Qortal key written to %s (mode 0600): keep it secret\npublic key %s\n%s\n",
		*out, qortal.Base58Encode(pub), qortal.AddressFromPublicKey(pub))
	return nil
}

const addressUsage = `Usage: qortal-oidc address FILE|PUBKEY

Prints the Qortal address of a key: FILE holds a private key (as for sign:
32-byte seed or Qortal Hub's 64-byte export, Base58 or hex), PUBKEY is a
public key in Base58 or hex.
`

// runAddress implements the address subcommand.
func runAddress(args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		_, _ = io.WriteString(stdout, addressUsage)
		return nil
	}
	if len(args) != 1 {
		_, _ = io.WriteString(stderr, addressUsage)
		return errors.New("address: give one key file or public key")
	}
	arg := args[0]
	if st, err := os.Stat(arg); err == nil && st.Mode().IsRegular() {
		priv, err := readKeyFile(arg, stderr)
		if err != nil {
			return fmt.Errorf("address: %w", err)
		}
		defer clear(priv)
		fmt.Fprintln(stdout, qortal.AddressFromPublicKey(priv.Public().(ed25519.PublicKey)))
		return nil
	}
	pub, err := qortal.ParsePublicKey(arg)
	if err != nil {
		return fmt.Errorf("address: %q is neither a key file nor a public key: %w", arg, err)
	}
	fmt.Fprintln(stdout, qortal.AddressFromPublicKey(pub))
	return nil
}
