package onboarding

import (
	"fmt"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
)

// Templates are the messages of a campaign, as Go text/template sources.
// Notifications and e-mail are plain text, so nothing is HTML-escaped.
type Templates struct {
	NotificationShort string
	NotificationLong  string
	EmailSubject      string
	EmailBody         string
}

// Data is what a template can use.
type Data struct {
	DisplayName string // the Nextcloud display name, or the user id
	UserID      string
	Link        string // the /onboard/{token} link
	ExpiresAt   string // e.g. "2030-06-07 08:09 UTC"
}

// Limits of the channels (the notifications app's, and a sane subject).
const (
	maxShort   = 255
	maxLong    = 4000
	maxSubject = 200
	maxBody    = 64 << 10
)

// withDefaults fills empty fields from the configuration.
func (t Templates) withDefaults(c config.Onboarding) Templates {
	pick := func(v, d string) string {
		if strings.TrimSpace(v) == "" {
			return d
		}
		return v
	}
	return Templates{
		NotificationShort: pick(t.NotificationShort, c.NotificationShort),
		NotificationLong:  pick(t.NotificationLong, c.NotificationLong),
		EmailSubject:      pick(t.EmailSubject, c.EmailSubject),
		EmailBody:         pick(t.EmailBody, c.EmailBody),
	}
}

// sample is the largest plausible data, so a template that fits with it
// fits for every user.
var sample = Data{
	DisplayName: strings.Repeat("W", 64), UserID: strings.Repeat("u", 64),
	Link: "https://" + strings.Repeat("h", 60) + "/onboard/" + strings.Repeat("t", 43), ExpiresAt: "2030-12-31 23:59 UTC",
}

// check parses every template and renders it with sample data within the
// channel limits, so a campaign never starts with messages that cannot go.
func (t Templates) check() error {
	for _, f := range []struct {
		name, src string
		max       int
		oneLine   bool
	}{
		{"notificationShort", t.NotificationShort, maxShort, true},
		{"notificationLong", t.NotificationLong, maxLong, false},
		{"emailSubject", t.EmailSubject, maxSubject, true},
		{"emailBody", t.EmailBody, maxBody, false},
	} {
		out, err := render(f.name, f.src, sample)
		if err != nil {
			return err
		}
		if len(out) > f.max {
			return fmt.Errorf("%s renders to %d bytes with a long name and link; the limit is %d", f.name, len(out), f.max)
		}
		if f.oneLine && strings.ContainsAny(out, "\r\n") {
			return fmt.Errorf("%s must render to one line", f.name)
		}
	}
	return nil
}

// render executes one template; unknown fields are errors, not "<no value>".
func render(name, src string, d Data) (string, error) {
	if !utf8.ValidString(src) {
		return "", fmt.Errorf("%s is not valid UTF-8", name)
	}
	tmpl, err := template.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, d); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return b.String(), nil
}

// messages are the rendered texts for one target.
type messages struct {
	short, long, subject, body string
}

func (t Templates) render(d Data) (messages, error) {
	var (
		m   messages
		err error
	)
	if m.short, err = render("notificationShort", t.NotificationShort, d); err != nil {
		return m, err
	}
	if m.long, err = render("notificationLong", t.NotificationLong, d); err != nil {
		return m, err
	}
	if m.subject, err = render("emailSubject", t.EmailSubject, d); err != nil {
		return m, err
	}
	m.body, err = render("emailBody", t.EmailBody, d)
	return m, err
}

func formatExpiry(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
