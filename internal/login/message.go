package login

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// MessageParams is everything a login challenge message states.
type MessageParams struct {
	Issuer     string // the broker's issuer URL
	ClientName string // the relying party's display name (may be empty)
	ClientID   string
	Address    string
	Nonce      string
	IssuedAt   time.Time
	ExpiresAt  time.Time
}

// maxNameLen bounds how much of a client name the message repeats.
const maxNameLen = 80

// BuildMessage renders the text the user signs. Like EIP-4361 it is meant to
// be read by a person before signing: it says who asks (the issuer host),
// which app the signature unlocks, for which address, and until when. The
// output depends only on p, so a signature can be checked against a message
// rebuilt or stored byte for byte.
func BuildMessage(p MessageParams) string {
	head, tail, stamp := messageParts(p)
	return head + p.Address + tail + stamp
}

// messageParts is the message without its address, in the three pieces the
// login page puts together in the browser once the user has given an
// address (see pageChallenge): head and tail are the same for every login
// of a client, stamp is the challenge's own (nonce and times).
func messageParts(p MessageParams) (head, tail, stamp string) {
	client := clientLabel(p.ClientName, p.ClientID)
	head = issuerHost(p.Issuer) + " wants you to sign in with your Qortal account:\n"
	var b strings.Builder
	fmt.Fprintf(&b, "\n\nSign in to %s via %s\n\n", client, p.Issuer)
	fmt.Fprintf(&b, "URI: %s\n", p.Issuer)
	fmt.Fprintf(&b, "Client: %s\n", client)
	fmt.Fprintf(&b, "Client ID: %s\n", oneLine(p.ClientID, maxNameLen))
	b.WriteString("Purpose: login\n")
	stamp = fmt.Sprintf("Nonce: %s\nIssued At: %s\nExpiration Time: %s", p.Nonce,
		p.IssuedAt.UTC().Format(time.RFC3339), p.ExpiresAt.UTC().Format(time.RFC3339))
	return head, b.String(), stamp
}

func clientLabel(name, id string) string {
	if n := oneLine(name, maxNameLen); n != "" {
		return n
	}
	return oneLine(id, maxNameLen)
}

// oneLine flattens control characters and caps the length, so a client name
// can never add a line that looks like one of the message's own fields.
func oneLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}

func issuerHost(issuer string) string {
	if u, err := url.Parse(issuer); err == nil && u.Host != "" {
		return u.Host
	}
	return issuer
}
