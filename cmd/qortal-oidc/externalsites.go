package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/qapps"
)

// runExternalSites prints the occ commands that give every approved Q-App
// a menu entry in Nextcloud's External sites app.
func runExternalSites(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	fs := externalSitesFlags(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !cfg.QApps.Enabled() {
		return errors.New("nextcloud external-sites: qapps.origin is not set: the Q-Apps gateway is off")
	}
	st, err := openStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	apps, err := st.ListQApps(ctx)
	if err != nil {
		return fmt.Errorf("nextcloud external-sites: %w", err)
	}
	fmt.Fprint(stdout, qapps.ExternalSitesScript(cfg.QApps.Origin, apps))
	return nil
}

func externalSitesFlags(output io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("nextcloud external-sites", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.String("config", "", configFlagHelp)
	fs.Usage = func() {
		_, _ = io.WriteString(fs.Output(), "Usage: qortal-oidc nextcloud external-sites [--config FILE]\n\nPrints the occ commands that give every approved Q-App a menu entry in Nextcloud's External sites app.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs
}
