package console

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// PurposeAdmin marks challenges issued for console sign-in; login and
// provisioning refuse them, and the console refuses theirs.
const PurposeAdmin = "admin"

// messageParams is everything a console sign-in message states.
type messageParams struct {
	Issuer    string
	Address   string
	Nonce     string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// buildMessage renders the text an admin signs. It has the shape of the
// login message (who asks, for which address, what for, until when) but
// says plainly that the signature opens the admin console, so it cannot be
// mistaken for, or replayed as, a login to an application.
func buildMessage(p messageParams) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s wants you to sign in with your Qortal account:\n", host(p.Issuer))
	fmt.Fprintf(&b, "%s\n\n", p.Address)
	fmt.Fprintf(&b, "Sign in to the qortal-oidc admin console of %s\n\n", p.Issuer)
	fmt.Fprintf(&b, "URI: %s/admin\n", strings.TrimSuffix(p.Issuer, "/"))
	fmt.Fprintf(&b, "Purpose: %s\n", PurposeAdmin)
	fmt.Fprintf(&b, "Nonce: %s\n", p.Nonce)
	fmt.Fprintf(&b, "Issued At: %s\n", p.IssuedAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "Expiration Time: %s", p.ExpiresAt.UTC().Format(time.RFC3339))
	return b.String()
}

func host(issuer string) string {
	if u, err := url.Parse(issuer); err == nil && u.Host != "" {
		return u.Host
	}
	return issuer
}

// shellQuote quotes s for a POSIX shell, for the "sign elsewhere" command.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
