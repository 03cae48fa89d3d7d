package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

const nextcloudUsage = `Usage:
  qortal-oidc nextcloud setup-command --client-id ID [--provider-id qortal] [--display-name NAME]
                                      [--client-secret SECRET] [--config FILE]
  qortal-oidc nextcloud external-sites [--config FILE]

Prints the occ commands that register the broker in Nextcloud's user_oidc app
(setup-command), or give every approved Q-App a menu entry (external-sites).
"qortal-oidc nextcloud ACTION --help" shows an action's flags.
`

type setupFlags struct {
	fs                                        *flag.FlagSet
	clientID, providerID, displayName, secret *string
}

func setupCommandFlags(output io.Writer) *setupFlags {
	fs := flag.NewFlagSet("nextcloud setup-command", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.String("config", "", configFlagHelp)
	f := &setupFlags{fs: fs,
		clientID:    fs.String("client-id", "", "client id registered with \"qortal-oidc clients add\" or in the config"),
		providerID:  fs.String("provider-id", "qortal", "user_oidc provider identifier"),
		displayName: fs.String("display-name", "", "button label; user_oidc shows the identifier, so this replaces --provider-id"),
		secret:      fs.String("client-secret", "", "the client secret (default: a $CLIENT_SECRET placeholder)"),
	}
	fs.Usage = func() {
		_, _ = io.WriteString(fs.Output(), "Usage: qortal-oidc nextcloud setup-command --client-id ID [flags]\n\nPrints the exact occ user_oidc:provider command for a registered client.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return f
}

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
	f := setupCommandFlags(stderr)
	if err := f.fs.Parse(args[1:]); err != nil {
		return err
	}
	clientID, providerID, displayName, secret := f.clientID, f.providerID, f.displayName, f.secret
	if *clientID == "" {
		return errors.New("nextcloud setup-command: --client-id is required")
	}
	st, err := openStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := st.GetClient(ctx, *clientID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("nextcloud setup-command: no client %q is registered: add it with qortal-oidc clients add (qortal-oidc clients list shows them)", *clientID)
	}
	if err != nil {
		return fmt.Errorf("nextcloud setup-command: client %s: %w", *clientID, err)
	}
	ident := *providerID
	if *displayName != "" {
		ident = *displayName
	}
	writeSetup(stdout, strings.TrimSuffix(cfg.Issuer, "/"), ident, c, *secret, cfg.OIDC.AccessTokenFormat)
	return nil
}

// shq quotes s for a POSIX shell.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// clientSecretArg makes the shell refuse to run the command when
// CLIENT_SECRET is unset or empty, instead of registering an empty secret.
const clientSecretArg = `"${CLIENT_SECRET:?set CLIENT_SECRET first}"`

func writeSetup(w io.Writer, issuer, ident string, c store.OIDCClient, secret, accessTokenFormat string) {
	secretArg := clientSecretArg
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
	// user_oidc routes back-channel logout by the provider identifier, which
	// --display-name may fill with spaces: the path segment must be escaped,
	// and a client registered for another identifier gets no logout at all.
	bcl := "/apps/user_oidc/backchannel-logout/" + url.PathEscape(ident)
	fmt.Fprintf(w, "# Back-channel logout endpoint to register on the client: <nextcloud>/index.php%s\n", bcl)
	if c.BackchannelLogoutURI == "" {
		fmt.Fprintf(w, "# (client %s has none yet: without it, blocking or signing out everywhere cannot end Nextcloud sessions)\n", c.ID)
	} else if !strings.HasSuffix(c.BackchannelLogoutURI, bcl) {
		fmt.Fprintf(w, "# WARNING: client %s has back-channel logout URI %s, which does not end in %s:\n#   Nextcloud will refuse its logout tokens. Register the one above.\n", c.ID, c.BackchannelLogoutURI, bcl)
	}
	// user_oidc stores --mapping-groups but ignores the claim unless group
	// provisioning is on, and then it also takes users out of every group
	// the claim does not name: worth saying before someone turns it on.
	fmt.Fprintf(w, "# Groups: user_oidc ignores the groups claim (oidc.groups_claim) unless --group-provisioning=1, which also\n")
	fmt.Fprintf(w, "# removes users from Nextcloud groups the claim does not name; limit it with --group-whitelist-regex.\n")
	fmt.Fprintf(w, "# provision.default_groups puts accounts in groups without it.\n")
	writeBearerSetup(w, ident, accessTokenFormat)
}

// writeBearerSetup prints the optional block that lets Nextcloud accept the
// broker's access tokens as bearer tokens (WebDAV/OCS without an app
// password), commented out: most installations do not need it.
func writeBearerSetup(w io.Writer, ident, accessTokenFormat string) {
	fmt.Fprintf(w, "\n# Optional: bearer tokens. Only if other applications that sign people in at this broker call\n")
	fmt.Fprintf(w, "# Nextcloud's WebDAV or OCS API with the user's access token (Authorization: Bearer ...)\n")
	fmt.Fprintf(w, "# instead of a Nextcloud app password. Browser logins, desktop and mobile clients do not need it.\n")
	fmt.Fprintf(w, "#   php occ user_oidc:provider %s --check-bearer=1\n", shq(ident))
	if accessTokenFormat == "jwt" {
		fmt.Fprintf(w, "# The broker issues JWT access tokens (oidc.access_token_format: jwt): user_oidc checks them against\n")
		fmt.Fprintf(w, "# the broker's JWKS with no round trip; a token stays valid until it expires, even after a logout.\n")
		fmt.Fprintf(w, "# Opaque tokens need userinfo validation instead (one call to the broker per request, revocation immediate):\n")
	} else {
		fmt.Fprintf(w, "# The broker's access tokens are opaque (oidc.access_token_format: opaque), so user_oidc must check\n")
		fmt.Fprintf(w, "# them at the broker's userinfo endpoint (one call per request; a logout or block takes effect at once):\n")
	}
	fmt.Fprintf(w, "#   php occ config:system:set user_oidc userinfo_bearer_validation --value=true --type=boolean\n")
}
