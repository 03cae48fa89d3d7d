package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
)

const healthcheckUsage = `Usage: qortal-oidc healthcheck [--config FILE] [--url URL] [--timeout 3s]

Asks the broker running on this host whether it is ready (GET /readyz: the
process answers and its store answers) and exits 0 when it is, 1 when it is
not. Distroless images have no curl; the image's HEALTHCHECK runs this.

Without --url the address is the listen setting: of --config FILE (with
its environment overrides) when given, else QORTAL_OIDC_LISTEN, else the
default; an unspecified host (0.0.0.0, ::) is read as loopback.

Flags:
`

// unhealthyError makes main exit 1, which HEALTHCHECK reads as unhealthy
// (2 is reserved there).
type unhealthyError struct{ err error }

func (e unhealthyError) Error() string { return e.err.Error() }
func (e unhealthyError) Unwrap() error { return e.err }

func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", configFlagHelp)
	target := fs.String("url", "", "readiness URL to ask (default: http://<listen>/readyz)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	fs.Usage = func() {
		_, _ = io.WriteString(fs.Output(), healthcheckUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("healthcheck: unexpected arguments %q", fs.Args())
	}
	u := *target
	if u == "" {
		// Without --config only the listen address is read (QORTAL_OIDC_LISTEN
		// or the default): a probe must not fail on a setting it does not use.
		listen := config.Default().Listen
		if v := os.Getenv("QORTAL_OIDC_LISTEN"); v != "" {
			listen = v
		}
		if *cfgPath != "" {
			cfg, err := loadConfig(*cfgPath)
			if err != nil {
				return unhealthyError{err}
			}
			listen = cfg.Listen
		}
		var err error
		if u, err = readyURL(listen); err != nil {
			return unhealthyError{err}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	// No proxy: the broker is on this host, and a proxy variable meant for
	// outgoing calls must not turn the probe into one.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	res, err := client.Do(req)
	if err != nil {
		return unhealthyError{fmt.Errorf("healthcheck: %s: %w", u, err)}
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode != http.StatusOK {
		return unhealthyError{fmt.Errorf("healthcheck: %s answered %d: %s", u, res.StatusCode, body)}
	}
	fmt.Fprintf(stdout, "ready: %s\n", u)
	return nil
}

// readyURL is the /readyz URL of a broker listening on listen.
func readyURL(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil || port == "" {
		return "", errors.New("healthcheck: listen must be host:port, got " + listen)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::", "[::]":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}
