// Command qortal-oidc is the Qortal -> Nextcloud OpenID Connect broker.
//
//	qortal-oidc serve   [--config FILE]   run the broker
//	qortal-oidc migrate [--config FILE]   apply database migrations and exit
//	qortal-oidc sign    --key-file F      sign stdin with a Qortal key (prints JSON)
//	qortal-oidc keygen  --out FILE        make a new Qortal key, print its address
//	qortal-oidc address FILE|PUBKEY       print the address of a key
//	qortal-oidc loadtest --issuer URL ... drive complete logins, measure them
//	qortal-oidc healthcheck [--config F]  exit 0 when the local broker is ready (for HEALTHCHECK)
//	qortal-oidc version                   print the version
//	qortal-oidc clients add|list|remove   manage OIDC relying parties
//	qortal-oidc keys rotate|list          manage token signing keys
//	qortal-oidc nextcloud setup-command   print the occ user_oidc:provider command
//	qortal-oidc nextcloud external-sites  print the occ commands for Q-Apps menu entries
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/logging"
	"github.com/qortal-oidc/qortal-oidc/internal/server"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/postgres"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

const usage = `qortal-oidc: log in to Nextcloud with a Qortal account.

Usage:
  qortal-oidc serve   [--config FILE]    run the broker (default config: none, built-in defaults)
  qortal-oidc migrate [--config FILE]    apply database migrations and exit
  qortal-oidc sign    --key-file FILE    sign the message on stdin with a Qortal key
  qortal-oidc keygen  --out FILE         make a new Qortal key (mode 0600); prints its address last
  qortal-oidc address FILE|PUBKEY        print the Qortal address of a key file or public key
  qortal-oidc loadtest --issuer URL --client ID --secret S --redirect-uri U --key-file F ...
                                         drive complete logins and measure them (see loadtest -h)
  qortal-oidc healthcheck [--config FILE] [--url URL]
                                         exit 0 when the broker on this host is ready (container HEALTHCHECK)
  qortal-oidc version                    print the version
  qortal-oidc clients add|list|remove ... [--config FILE]    manage OIDC relying parties
  qortal-oidc keys rotate|list [--config FILE]               manage token signing keys
  qortal-oidc nextcloud setup-command --client-id ID [--config FILE]
                                         print the exact occ user_oidc:provider command
  qortal-oidc nextcloud external-sites [--config FILE]
                                         print the occ commands for Q-Apps menu entries (External sites)

Every setting can also come from QORTAL_OIDC_* environment variables; see README.md.
"qortal-oidc COMMAND --help" shows a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0) // help was asked for and printed
		}
		fmt.Fprintln(os.Stderr, "qortal-oidc:", err)
		var u unhealthyError
		if errors.As(err, &u) {
			os.Exit(1) // what container HEALTHCHECKs read as "unhealthy"
		}
		os.Exit(2)
	}
}

// wantsHelp reports a -h/--help among args (before a "--").
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing subcommand")
	}
	cmd, rest := args[0], args[1:]
	if wantsHelp(rest) {
		// Usage goes to stdout and the command exits 0, for every command
		// and action; nothing is loaded or opened to print it.
		return helpFor(ctx, cmd, rest, stdout)
	}
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stderr)
	case "migrate":
		return runMigrate(ctx, rest, stdout, stderr)
	case "sign":
		return runSign(rest, stdin, stdout, stderr)
	case "keygen":
		return runKeygen(rest, stdout, stderr)
	case "address":
		return runAddress(rest, stdout, stderr)
	case "loadtest":
		return runLoadtest(ctx, rest, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "qortal-oidc", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	if sub := configCommand(cmd); sub != nil {
		cfgPath, rest, err := extractConfigFlag(rest)
		if err != nil {
			return err
		}
		cfg, err := loadConfig(cfgPath)
		if err != nil {
			return err
		}
		// Key commands must decrypt what serve encrypted: same key source.
		if err := config.EnsureDevKeyEncryptionKey(&cfg); err != nil {
			return err
		}
		return sub(ctx, cfg, rest, stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown subcommand %q", cmd)
}

type configCmd func(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error

// configCommand returns the subcommands that need the loaded configuration.
func configCommand(name string) configCmd {
	switch name {
	case "clients":
		return runClients
	case "keys":
		return runKeys
	case "nextcloud":
		return runNextcloud
	}
	return nil
}

// extractConfigFlag takes --config F (or --config=F) from anywhere in args,
// so "clients add --config F ..." works as well as "clients --config F add".
func extractConfigFlag(args []string) (path string, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--config" || a == "-config":
			if i+1 >= len(args) {
				return "", nil, errors.New("--config needs a file name")
			}
			path = args[i+1]
			i++
		case strings.HasPrefix(a, "--config=") || strings.HasPrefix(a, "-config="):
			path = a[strings.IndexByte(a, '=')+1:]
		default:
			rest = append(rest, a)
		}
	}
	return path, rest, nil
}

func loadConfig(path string) (config.Config, error) {
	cfg, err := config.Load(path, os.Getenv)
	if err != nil {
		return config.Config{}, fmt.Errorf("configuration: %w", err)
	}
	return cfg, nil
}

const configFlagHelp = "YAML config file (optional; QORTAL_OIDC_* variables override it)"

var commandUsage = map[string]string{
	"serve": `Usage: qortal-oidc serve [--config FILE]

Runs the broker: the OpenID Provider, the login pages, the admin API and
console. Without --config it runs on built-in defaults (embedded store in
./data). Every setting can also come from QORTAL_OIDC_* environment variables.
`,
	"migrate": `Usage: qortal-oidc migrate [--config FILE]

Applies the database migrations of the configured store and exits.
`,
}

func parseConfigFlag(name string, args []string, stderr io.Writer) (config.Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", configFlagHelp)
	fs.Usage = func() {
		_, _ = io.WriteString(fs.Output(), commandUsage[name]+"\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return config.Config{}, err
	}
	if fs.NArg() > 0 {
		return config.Config{}, fmt.Errorf("%s: unexpected arguments %q", name, fs.Args())
	}
	return loadConfig(*path)
}

// helpFor prints the usage of cmd (and of its action, for commands that
// have actions) to w, and returns flag.ErrHelp so the process exits 0.
func helpFor(ctx context.Context, cmd string, args []string, w io.Writer) error {
	var action string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		action = args[0]
	}
	switch cmd {
	case "serve", "migrate":
		_, err := parseConfigFlag(cmd, []string{"-h"}, w)
		return err
	case "sign":
		return runSign([]string{"-h"}, strings.NewReader(""), w, w)
	case "keygen":
		return runKeygen([]string{"-h"}, w, w)
	case "address":
		_, _ = io.WriteString(w, addressUsage)
		return flag.ErrHelp
	case "loadtest":
		return runLoadtest(ctx, []string{"-h"}, w, w)
	case "healthcheck":
		return runHealthcheck(ctx, []string{"-h"}, w, w)
	case "clients":
		if clientsFlags(action, w) == nil {
			_, _ = io.WriteString(w, clientsUsage)
			return flag.ErrHelp
		}
		clientsFlags(action, w).fs.Usage()
		return flag.ErrHelp
	case "keys":
		_, _ = io.WriteString(w, keysUsage)
		return flag.ErrHelp
	case "nextcloud":
		switch action {
		case "setup-command":
			setupCommandFlags(w).fs.Usage()
		case "external-sites":
			externalSitesFlags(w).Usage()
		default:
			_, _ = io.WriteString(w, nextcloudUsage)
		}
		return flag.ErrHelp
	case "version":
		_, _ = io.WriteString(w, versionUsage)
		return flag.ErrHelp
	case "help":
		_, _ = io.WriteString(w, usage)
		return flag.ErrHelp
	}
	_, _ = io.WriteString(w, usage)
	return flag.ErrHelp
}

const versionUsage = `Usage: qortal-oidc version

Prints the broker's version (the module version, or the VCS revision of a
source build) and exits.
`

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	return logging.New(w, logging.Options{Level: level, Format: cfg.Log.Format})
}

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseConfigFlag("serve", args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	// zitadel/oidc logs through slog's default logger; route it into ours.
	slog.SetDefault(log)
	log.Debug("garbage collector", "gogc", applyGCDefault(os.Getenv))
	return server.Run(ctx, cfg, log)
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfigFlag("migrate", args, stderr)
	if err != nil {
		return err
	}
	if cfg.UsesPostgres() {
		if err := postgres.Migrate(ctx, cfg.DatabaseURL); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "postgres: migrations applied")
		return nil
	}
	// The embedded store migrates when opened.
	st, err := server.OpenStore(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "embedded store: migrations applied in", cfg.DataDir)
	return st.Close()
}

// openStore is for subcommands that work on the store directly; their
// output is for people, so only warnings and errors are logged.
func openStore(ctx context.Context, cfg config.Config, stderr io.Writer) (store.Store, error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return server.OpenStore(ctx, cfg, log)
}

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}
