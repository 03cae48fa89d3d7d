package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

const nextcloudUsage = `usage:
  qortal-oidc nextcloud setup-command --client-id ID [--provider-id qortal] [--display-name NAME] [--client-secret SECRET]
  qortal-oidc nextcloud external-sites
`

// runNextcloud prints the occ commands that register the broker in
// Nextcloud's user_oidc app.
func runNextcloud(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "external-sites" {
		return runExternalSites(ctx, cfg, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "setup-command" {
		fmt.Fprint(stderr, nextcloudUsage)
		return errors.New("nextcloud: want the setup-command or external-sites action")
	}
	fs := flag.NewFlagSet("nextcloud setup-command", flag.ContinueOnError)
	fs.SetOutput(stderr)
	clientID := fs.String("client-id", "", "client id registered with `qortal-oidc clients add` or in the config")
	providerID := fs.String("provider-id", "qortal", "user_oidc provider identifier")
	displayName := fs.String("display-name", "", "button label; user_oidc shows the identifier, so this replaces --provider-id")
	secret := fs.String("client-secret", "", "the client secret (default: a $CLIENT_SECRET placeholder)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *clientID == "" {
		return errors.New("nextcloud setup-command: --client-id is required")
	}
	st, err := openStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := st.GetClient(ctx, *clientID)
	if err != nil {
		return fmt.Errorf("nextcloud setup-command: client %s: %w", *clientID, err)
	}
	ident := *providerID
	if *displayName != "" {
		ident = *displayName
	}
	writeSetup(stdout, strings.TrimSuffix(cfg.Issuer, "/"), ident, c, *secret)
	return nil
}

// shq quotes s for a POSIX shell.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func writeSetup(w io.Writer, issuer, ident string, c store.OIDCClient, secret string) {
	secretArg := `"$CLIENT_SECRET"`
	if secret != "" {
		secretArg = shq(secret)
	}
	fmt.Fprintf(w, "# Run in the Nextcloud directory as the web server user (e.g. sudo -u www-data php occ ...).\n")
	if secret == "" {
		fmt.Fprintf(w, "# Set CLIENT_SECRET to the secret printed by `qortal-oidc clients add` (it is not stored, only its hash).\n")
	}
	fmt.Fprintf(w, "# Only if Nextcloud reaches the broker on a private or loopback address:\n")
	fmt.Fprintf(w, "#   php occ config:system:set allow_local_remote_servers --value=true --type=boolean\n")
	if strings.HasPrefix(issuer, "http://") {
		fmt.Fprintf(w, "# The issuer is plain http (development only); user_oidc refuses it unless:\n")
		fmt.Fprintf(w, "#   php occ config:app:set user_oidc allow_insecure_http --value=1 --type=boolean --lazy\n")
	}
	fmt.Fprintf(w, "php occ user_oidc:provider %s --clientid=%s --clientsecret=%s --discoveryuri=%s --unique-uid=0 --mapping-uid=sub --mapping-display-name=name --mapping-email=email --mapping-groups=groups --send-id-token-hint=1 --scope=%s\n",
		shq(ident), shq(c.ID), secretArg, shq(issuer+"/.well-known/openid-configuration"), shq("openid email profile"))
	fmt.Fprintf(w, "# Redirect URIs registered for client %s (one must equal the one Nextcloud shows for the provider):\n", c.ID)
	for _, u := range c.RedirectURIs {
		fmt.Fprintf(w, "#   %s\n", u)
	}
	fmt.Fprintf(w, "# Typical value: <nextcloud>/index.php/apps/user_oidc/code (without /index.php with pretty URLs).\n")
	fmt.Fprintf(w, "# Back-channel logout endpoint to register on the client: <nextcloud>/index.php/apps/user_oidc/backchannel-logout/%s\n", ident)
}
