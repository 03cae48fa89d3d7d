package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/oidcprovider"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

const clientsUsage = `usage:
  qortal-oidc clients add --id ID --name NAME --redirect-uri URI [--redirect-uri URI ...]
                          [--post-logout-redirect-uri URI ...] [--backchannel-logout-uri URI] [--public]
  qortal-oidc clients list
  qortal-oidc clients remove --id ID
`

// multi collects a repeatable flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// runClients manages relying parties stored in the database (clients from
// the configuration file are managed there and only listed here).
func runClients(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, clientsUsage)
		return errors.New("clients: missing action")
	}
	st, err := openStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	return clientsAction(ctx, st, args, stdout, stderr)
}

func clientsAction(ctx context.Context, st store.Store, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("clients "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch args[0] {
	case "add":
		var redirects, postLogout multi
		id := fs.String("id", "", "client id (letters, digits, . _ - ~)")
		name := fs.String("name", "", "display name shown on the login page")
		fs.Var(&redirects, "redirect-uri", "exact redirect URI (repeatable)")
		fs.Var(&postLogout, "post-logout-redirect-uri", "allowed post-logout redirect URI (repeatable)")
		backchannel := fs.String("backchannel-logout-uri", "", "back-channel logout endpoint of the client")
		public := fs.Bool("public", false, "public client (no secret; PKCE required)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		now := time.Now()
		c := store.OIDCClient{ID: *id, Name: *name, RedirectURIs: redirects, PostLogoutRedirectURIs: postLogout,
			BackchannelLogoutURI: *backchannel, Public: *public, CreatedAt: now, UpdatedAt: now}
		var secret string
		if !*public {
			var err error
			if secret, err = oidcprovider.NewSecret(); err != nil {
				return err
			}
			c.SecretHash = oidcprovider.HashSecret(secret)
		}
		if err := store.ValidateClientID(c.ID); err != nil {
			return fmt.Errorf("clients add: %w", err)
		}
		if err := oidcprovider.ValidateClientURIs(c); err != nil {
			return err
		}
		if err := st.CreateClient(ctx, c); err != nil {
			return fmt.Errorf("clients add: %w", err)
		}
		fmt.Fprintf(stdout, "client %s added\n", c.ID)
		if secret != "" {
			fmt.Fprintf(stdout, "client secret (shown only now; only its hash is stored):\n%s\n", secret)
		}
		return nil
	case "list":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		all, err := st.ListClients(ctx)
		if err != nil {
			return err
		}
		for _, c := range all {
			kind, source := "confidential", "cli"
			if c.Public {
				kind = "public"
			}
			if c.FromConfig {
				source = "config"
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, kind, source, strings.Join(c.RedirectURIs, " "))
		}
		return nil
	case "remove":
		id := fs.String("id", "", "client id")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		c, err := st.GetClient(ctx, *id)
		if err != nil {
			return fmt.Errorf("clients remove: %w", err)
		}
		if c.FromConfig {
			return fmt.Errorf("clients remove: %s comes from the configuration file; remove it there", c.ID)
		}
		if err := st.DeleteClient(ctx, c.ID); err != nil {
			return fmt.Errorf("clients remove: %w", err)
		}
		fmt.Fprintf(stdout, "client %s removed\n", c.ID)
		return nil
	}
	fmt.Fprint(stderr, clientsUsage)
	return fmt.Errorf("clients: unknown action %q", args[0])
}
