// Command fakenextcloud runs the project's fake Nextcloud (the one in
// internal/nextcloud/ocsfake; this is only a launcher) as a process, so the
// node interop tests can provision accounts through the real broker API.
//
// It prints {"url": "..."} on one stdout line once serving, and stops when
// its standard input closes (the parent died or closed it) or on a signal.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fakenextcloud:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("fakenextcloud", flag.ContinueOnError)
	user := fs.String("admin-user", "admin", "service account user name")
	pass := fs.String("app-password", "", "service account app password (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pass == "" {
		return errors.New("--app-password is required")
	}
	s := ocsfake.New()
	defer s.Close()
	s.AddAccount(*user, *pass, true)
	if err := json.NewEncoder(stdout).Encode(map[string]string{"url": s.URL()}); err != nil {
		return fmt.Errorf("announce url: %w", err)
	}
	eof := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		close(eof)
	}()
	select {
	case <-ctx.Done():
	case <-eof:
	}
	return nil
}
