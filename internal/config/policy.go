package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"text/template"
	"time"
)

// Policy decides who may log in. Admins can override Mode and Guard at run
// time (the override is kept in the store); these are the defaults.
type Policy struct {
	// Mode: link_only (only addresses with a linked mapping log in) or
	// auto_provision (an unknown address gets an account at first login).
	Mode string `yaml:"mode"`
	// Guard limits auto_provision: none, allowlist, invite or invite_or_allowlist.
	Guard string `yaml:"guard"`
	// InviteTTL is the default lifetime of invites created over the API.
	InviteTTL time.Duration `yaml:"invite_ttl"`
}

// Onboarding configures campaigns that invite existing Nextcloud users.
type Onboarding struct {
	// PublicURL is the base of the /onboard/{token} links; empty means the
	// issuer.
	PublicURL string `yaml:"public_url"`
	// RatePerMinute paces deliveries (per replica).
	RatePerMinute int `yaml:"rate_per_minute"`
	// InviteTTL is the lifetime of campaign invites.
	InviteTTL time.Duration `yaml:"invite_ttl"`
	// Default templates (Go text/template) with {{.DisplayName}},
	// {{.UserID}}, {{.Link}} and {{.ExpiresAt}}; a campaign may override them.
	NotificationShort string `yaml:"notification_short"`
	NotificationLong  string `yaml:"notification_long"`
	EmailSubject      string `yaml:"email_subject"`
	EmailBody         string `yaml:"email_body"`
}

// SMTP configures the mail relay onboarding e-mails go through.
type SMTP struct {
	Host         string `yaml:"host"` // empty: e-mail is not available
	Port         int    `yaml:"port"`
	Username     string `yaml:"username"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	From         string `yaml:"from"`
	// TLS: starttls (default, port 587), tls (implicit, port 465) or none
	// (only to a relay on a trusted network).
	TLS     string        `yaml:"tls"`
	Timeout time.Duration `yaml:"timeout"`
}

// Default onboarding message templates.
const (
	DefaultNotificationShort = "Link your Qortal account to sign in"
	DefaultNotificationLong  = "Hello {{.DisplayName}}, you can now sign in to this Nextcloud with your Qortal account. " +
		"Open {{.Link}} and sign the message with your Qortal key. The link works once and expires on {{.ExpiresAt}}."
	DefaultEmailSubject = "Sign in to Nextcloud with your Qortal account"
	DefaultEmailBody    = "Hello {{.DisplayName}},\n\nyou can now sign in to your Nextcloud account ({{.UserID}}) " +
		"with your Qortal account instead of a password.\n\nOpen this link and sign the message it shows with your Qortal key:\n\n" +
		"{{.Link}}\n\nThe link works once and expires on {{.ExpiresAt}}. If you did not expect this message, ignore it.\n"
)

func defaultPolicy() Policy {
	return Policy{Mode: "", Guard: "none", InviteTTL: 7 * 24 * time.Hour} // Mode "": see PolicyMode
}

func defaultOnboarding() Onboarding {
	return Onboarding{
		RatePerMinute: 30, InviteTTL: 14 * 24 * time.Hour,
		NotificationShort: DefaultNotificationShort, NotificationLong: DefaultNotificationLong,
		EmailSubject: DefaultEmailSubject, EmailBody: DefaultEmailBody,
	}
}

func defaultSMTP() SMTP { return SMTP{Port: 587, TLS: "starttls", Timeout: 30 * time.Second} }

// ValidPolicy reports whether mode and guard are known values.
func ValidPolicy(mode, guard string) error {
	switch mode {
	case "link_only", "auto_provision", "standalone":
	default:
		return fmt.Errorf("mode must be link_only, auto_provision or standalone, got %q", mode)
	}
	switch guard {
	case "none", "allowlist", "invite", "invite_or_allowlist":
	default:
		return fmt.Errorf("guard must be none, allowlist, invite or invite_or_allowlist, got %q", guard)
	}
	return nil
}

// PolicyMode is the configured login policy mode. Left empty it follows
// from whether Nextcloud is configured: standalone (any proven address
// signs in, sub = the address) without nextcloud.url, link_only with it.
func (c Config) PolicyMode() string {
	switch {
	case c.Policy.Mode != "":
		return c.Policy.Mode
	case c.Nextcloud.URL == "":
		return "standalone"
	}
	return "link_only"
}

// OnboardingBase is where /onboard links point.
func (c Config) OnboardingBase() string {
	if c.Onboarding.PublicURL != "" {
		return strings.TrimSuffix(c.Onboarding.PublicURL, "/")
	}
	return c.Issuer
}

// validatePolicy checks the policy, onboarding and smtp sections.
func validatePolicy(c Config) []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if err := ValidPolicy(c.PolicyMode(), c.Policy.Guard); err != nil {
		bad("policy", "%v", err)
	} else if c.PolicyMode() == "standalone" && c.Nextcloud.URL != "" {
		bad("policy.mode", "standalone signs people in without Nextcloud (sub = their Qortal address) and cannot be used with nextcloud.url: "+
			"choose link_only or auto_provision, or remove nextcloud.url")
	}
	positive(bad, "policy.invite_ttl", c.Policy.InviteTTL)

	o := c.Onboarding
	if o.PublicURL != "" {
		if u, err := url.Parse(o.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			bad("onboarding.public_url", "must be an absolute http(s) URL without query, got %q", o.PublicURL)
		}
	}
	if o.RatePerMinute < 1 || o.RatePerMinute > 6000 {
		bad("onboarding.rate_per_minute", "must be between 1 and 6000, got %d", o.RatePerMinute)
	}
	positive(bad, "onboarding.invite_ttl", o.InviteTTL)
	for key, t := range map[string]string{
		"onboarding.notification_short": o.NotificationShort, "onboarding.notification_long": o.NotificationLong,
		"onboarding.email_subject": o.EmailSubject, "onboarding.email_body": o.EmailBody,
	} {
		if strings.TrimSpace(t) == "" {
			bad(key, "must not be empty")
		} else if _, err := template.New(key).Option("missingkey=error").Parse(t); err != nil {
			bad(key, "not a valid template: %v", err)
		}
	}

	s := c.SMTP
	if s.Host == "" {
		return errs
	}
	if s.Port < 1 || s.Port > 65535 {
		bad("smtp.port", "must be 1-65535, got %d", s.Port)
	}
	switch s.TLS {
	case "starttls", "tls", "none":
	default:
		bad("smtp.tls", "must be starttls, tls or none, got %q", s.TLS)
	}
	if a, err := mail.ParseAddress(s.From); err != nil || a.Address == "" {
		bad("smtp.from", "required when smtp.host is set: an address such as \"Cloud <noreply@example.org>\"")
	}
	if s.Username != "" && s.Password == "" {
		bad("smtp.password", "required when smtp.username is set (or use password_file)")
	}
	if s.Password != "" && s.TLS == "none" && !isLoopbackHost(s.Host) {
		bad("smtp.tls", "none would send the SMTP password in clear to %s; use starttls or tls", s.Host)
	}
	positive(bad, "smtp.timeout", s.Timeout)
	return errs
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1"
}
