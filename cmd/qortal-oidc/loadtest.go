package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/loadtest"
)

const loadtestUsage = `Usage: qortal-oidc loadtest --issuer URL --client ID (--secret S | --secret-file F)
         --redirect-uri U --key-file FILE [-c 4] [-n 3000] [--duration 0]
         [--server-pid PID] [--db-pid PID]

Drives complete logins against a running broker as a browser and a relying
party would (authorize with PKCE, login page, challenge, Ed25519 signature,
verify, callback, code exchange, ID token checked against the JWKS) and prints
logins/s, p50/p95/p99 latency and errors by kind. With --server-pid (the
broker's process, on this machine) it also prints the server CPU time per
login and its resident memory, from /proc; --db-pid adds a database process
and its children (a Postgres postmaster and its backends).

The key's address must be admitted by the login policy (linked to a Nextcloud
user, or any address under the standalone policy), the client registered with
the redirect URI, and the broker's login.rate_limit.* raised for the run
(scripts/loadtest.sh sets all of this up).

Flags:
`

func runLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o loadtest.Options
	fs.StringVar(&o.Issuer, "issuer", "", "broker issuer URL (required)")
	fs.StringVar(&o.ClientID, "client", "", "OIDC client id (required)")
	secret := fs.String("secret", "", "client secret (visible to ps: prefer --secret-file)")
	secretFile := fs.String("secret-file", "", "file holding the client secret")
	fs.StringVar(&o.RedirectURI, "redirect-uri", "", "the client's registered redirect URI (required; never contacted)")
	keyFile := fs.String("key-file", "", "Qortal account private key file, as for sign (required)")
	fs.IntVar(&o.Concurrency, "c", 4, "concurrent logins")
	fs.IntVar(&o.Logins, "n", 3000, "logins to run")
	fs.DurationVar(&o.Duration, "duration", 0, "stop after this long even before -n logins (0: no limit)")
	fs.IntVar(&o.Warmup, "warmup", 20, "logins run before measuring")
	fs.IntVar(&o.ServerPID, "server-pid", 0, "broker process id, for CPU per login from /proc")
	fs.IntVar(&o.DBPID, "db-pid", 0, "database process id (children included), for its CPU per login")
	scopes := fs.String("scope", "openid profile", "scopes to request")
	fs.Usage = func() {
		_, _ = io.WriteString(fs.Output(), loadtestUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("loadtest: unexpected arguments %q", fs.Args())
	}
	if o.Issuer == "" || o.ClientID == "" || o.RedirectURI == "" || *keyFile == "" {
		fs.Usage()
		return errors.New("loadtest: --issuer, --client, --redirect-uri and --key-file are required")
	}
	o.Secret = *secret
	if *secretFile != "" {
		b, err := os.ReadFile(*secretFile)
		if err != nil {
			return fmt.Errorf("loadtest: %w", err)
		}
		o.Secret = strings.TrimSpace(string(b))
	}
	key, err := readKeyFile(*keyFile, stderr)
	if err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}
	o.Key = key
	o.Scopes = strings.Fields(*scopes)
	start := time.Now()
	r, err := loadtest.Run(ctx, o)
	if err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}
	r.Print(stdout, o)
	if r.ErrorCount() > 0 {
		return fmt.Errorf("loadtest: %d of %d logins failed (%s)", r.ErrorCount(), r.ErrorCount()+r.Logins, time.Since(start).Round(time.Second))
	}
	return nil
}
