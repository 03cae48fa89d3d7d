package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
)

const (
	// maxKeyFileBytes is far above any key encoding (128 hex digits plus whitespace)
	// and stops an accidental `--key-file /dev/zero` from reading forever.
	maxKeyFileBytes = 4096
	// maxSignMessageBytes bounds what sign will read; login challenges are a few hundred bytes.
	maxSignMessageBytes = 1 << 20
)

const signUsage = `Usage: qortal-oidc sign --key-file FILE [--message-file FILE]

Signs a login challenge with a Qortal account key (plain Ed25519) and prints
{"address","publicKey","signature"} as JSON, ready to paste into the login page.

The message is read from --message-file, or else from standard input, and is
signed byte for byte: nothing is trimmed, so a trailing newline becomes part
of the signed message and the login page will reject the signature. Copy the
challenge exactly and use a file, or printf without a newline:

  printf '%s' 'CHALLENGE TEXT' | qortal-oidc sign --key-file ~/.qortal-key

The key file holds the account private key as Base58 or hex: the 32-byte seed,
or the 64-byte key Qortal Hub exports. Keep it readable only by you (chmod 600).
The private key is never printed.

Flags:
`

// runSign implements the sign subcommand. It returns flag.ErrHelp for -h.
func runSign(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key-file", "", "file holding the account private key (required)")
	msgFile := fs.String("message-file", "", "file holding the exact message to sign (default: standard input)")
	fs.Usage = func() {
		_, _ = io.WriteString(fs.Output(), signUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("sign: unexpected arguments %q", fs.Args())
	}
	if *keyFile == "" {
		fs.Usage()
		return errors.New("sign: --key-file is required")
	}

	priv, err := readKeyFile(*keyFile, stderr)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	defer clear(priv)

	msg, err := readMessage(*msgFile, stdin)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if len(msg) == 0 {
		return errors.New("sign: the message is empty; pipe the challenge in or use --message-file")
	}
	if bytes.HasSuffix(msg, []byte("\n")) {
		// Not an error: someone may really mean to sign it. But it is the most likely
		// reason a signature gets rejected (echo adds one), so say so.
		_, _ = io.WriteString(stderr, "note: the message ends with a newline, which is signed too; use printf '%s' if that is not intended\n")
	}

	proof := qortal.Sign(priv, msg)
	if err := json.NewEncoder(stdout).Encode(proof); err != nil {
		return fmt.Errorf("sign: write result: %w", err)
	}
	return nil
}

// readKeyFile loads and parses a private key file. A file readable by group or others
// only draws a warning: people keep keys on filesystems that cannot express modes
// (FAT/exFAT USB sticks, Windows shares) or in mounts they do not control (container
// secrets are often 0644), and refusing would push them to worse workarounds, such as
// pasting the key into a shell command that lands in their history.
func readKeyFile(path string, stderr io.Writer) (_ ed25519.PrivateKey, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open key file: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close key file: %w", cerr)
		}
	}()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat key file: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		fmt.Fprintf(stderr, "warning: key file %s is accessible by other users (mode %#o); run: chmod 600 %s\n", path, perm, path)
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxKeyFileBytes+1))
	defer clear(raw)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if len(raw) > maxKeyFileBytes {
		return nil, fmt.Errorf("key file %s is larger than %d bytes: not a key file?", path, maxKeyFileBytes)
	}
	priv, err := qortal.ParsePrivateKey(string(raw))
	if err != nil {
		// ParsePrivateKey's errors never quote the key, so this is safe to print.
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return priv, nil
}

func readMessage(path string, stdin io.Reader) ([]byte, error) {
	src, name := stdin, "standard input"
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open message file: %w", err)
		}
		defer f.Close() // read-only: a close error cannot lose data
		src, name = f, path
	}
	msg, err := io.ReadAll(io.LimitReader(src, maxSignMessageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read message from %s: %w", name, err)
	}
	if len(msg) > maxSignMessageBytes {
		return nil, fmt.Errorf("message from %s is larger than %d bytes", name, maxSignMessageBytes)
	}
	return msg, nil
}
