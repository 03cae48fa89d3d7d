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

const clientsUsage = `Usage:
  qortal-oidc clients add --id ID --name NAME --redirect-uri URI [--redirect-uri URI ...]
                          [--post-logout-redirect-uri URI ...] [--backchannel-logout-uri URI] [--public]
                          [--config FILE]
  qortal-oidc clients list [--config FILE]
  qortal-oidc clients remove --id ID [--config FILE]

Manages the OpenID Connect relying parties stored in the database (clients
from the configuration file are listed, and managed in the file).
"qortal-oidc clients ACTION --help" shows an action's flags.
`

var clientsActionUsage = map[string]string{
	"add":    "Usage: qortal-oidc clients add --id ID --name NAME --redirect-uri URI [flags]\n\nRegisters a relying party; a confidential client's secret is printed once (only its hash is stored).\n",
	"list":   "Usage: qortal-oidc clients list [--config FILE]\n\nLists every client: id, name, kind, source (cli or config) and redirect URIs.\n",
	"remove": "Usage: qortal-oidc clients remove --id ID [--config FILE]\n\nRemoves a client added with clients add.\n",
}

// clientFlags is one action's flag set; the values are read after Parse.
type clientFlags struct {
	fs                    *flag.FlagSet
	id, name, backchannel *string
	redirects, postLogout multi
	public                *bool
}

// clientsFlags builds the flags of action (nil for an unknown one). Each
// set lists --config too: run takes it out of the arguments before the
// action sees them, but it belongs in the action's usage.
func clientsFlags(action string, output io.Writer) *clientFlags {
	text, ok := clientsActionUsage[action]
	if !ok {
		return nil
	}
	f := &clientFlags{fs: flag.NewFlagSet("clients "+action, flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(output)
	fs.String("config", "", configFlagHelp)
	switch action {
	case "add":
		f.id = fs.String("id", "", "client id (letters, digits, . _ - ~)")
		f.name = fs.String("name", "", "display name shown on the login page")
		fs.Var(&f.redirects, "redirect-uri", "exact redirect URI (repeatable)")
		fs.Var(&f.postLogout, "post-logout-redirect-uri", "allowed post-logout redirect URI (repeatable)")
		f.backchannel = fs.String("backchannel-logout-uri", "", "back-channel logout endpoint of the client")
		f.public = fs.Bool("public", false, "public client (no secret; PKCE required)")
	case "remove":
		f.id = fs.String("id", "", "client id")
	}
	fs.Usage = func() {
		_, _ = io.WriteString(fs.Output(), text+"\nFlags:\n")
		fs.PrintDefaults()
	}
	return f
}

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
	f := clientsFlags(args[0], stderr)
	if f == nil {
		fmt.Fprint(stderr, clientsUsage)
		return fmt.Errorf("clients: unknown action %q", args[0])
	}
	if err := f.fs.Parse(args[1:]); err != nil {
		return err
	}
	if f.fs.NArg() > 0 {
		return fmt.Errorf("clients %s: unexpected arguments %q", args[0], f.fs.Args())
	}
	switch args[0] {
	case "add":
		id, name, redirects, postLogout, backchannel, public := f.id, f.name, f.redirects, f.postLogout, f.backchannel, f.public
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
		if *f.id == "" {
			return errors.New("clients remove: --id is required")
		}
		c, err := st.GetClient(ctx, *f.id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("clients remove: no client %q is registered (qortal-oidc clients list shows them)", *f.id)
		}
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
	return nil
}
