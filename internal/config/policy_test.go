package config

import (
	"strings"
	"testing"
)

func TestPolicyDefaultsAndOverrides(t *testing.T) {
	cfg, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PolicyMode() != "standalone" || cfg.Policy.Guard != "none" || cfg.SMTP.Host != "" || cfg.OnboardingBase() != cfg.Issuer {
		t.Fatalf("defaults: %+v %+v", cfg.Policy, cfg.SMTP)
	}
	pw := writeFile(t, "pw", "smtp-secret-from-file\n")
	cfg, err = Load(writeFile(t, "c.yaml", "onboarding: {public_url: 'https://join.example/'}\n"), envMap(map[string]string{
		"QORTAL_OIDC_POLICY_MODE":        "auto_provision",
		"QORTAL_OIDC_POLICY_GUARD":       "invite_or_allowlist",
		"QORTAL_OIDC_SMTP_HOST":          "smtp.example.org",
		"QORTAL_OIDC_SMTP_PORT":          "465",
		"QORTAL_OIDC_SMTP_TLS":           "tls",
		"QORTAL_OIDC_SMTP_FROM":          "Cloud <noreply@example.org>",
		"QORTAL_OIDC_SMTP_USERNAME":      "relay",
		"QORTAL_OIDC_SMTP_PASSWORD_FILE": pw,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Policy.Mode != "auto_provision" || cfg.Policy.Guard != "invite_or_allowlist" || cfg.SMTP.Port != 465 ||
		cfg.SMTP.TLS != "tls" || cfg.SMTP.Password != "smtp-secret-from-file" || cfg.OnboardingBase() != "https://join.example" {
		t.Fatalf("overrides: %+v %+v %s", cfg.Policy, cfg.SMTP, cfg.OnboardingBase())
	}
	for _, name := range []string{"QORTAL_OIDC_POLICY_MODE", "QORTAL_OIDC_SMTP_PASSWORD", "QORTAL_OIDC_SMTP_TLS"} {
		found := false
		for _, n := range EnvNames() {
			found = found || n == name
		}
		if !found {
			t.Errorf("%s is not a documented override", name)
		}
	}
}

func TestPolicyValidationNamesTheKey(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"policy: {mode: open}\n", "policy: mode must be"},
		{"policy: {guard: moat}\n", "policy: guard must be"},
		{"policy: {invite_ttl: 0s}\n", "policy.invite_ttl"},
		{"onboarding: {rate_per_minute: 0}\n", "onboarding.rate_per_minute"},
		{"onboarding: {public_url: 'ftp://x'}\n", "onboarding.public_url"},
		{"onboarding: {email_body: '{{.Link'}\n", "onboarding.email_body"},
		{"onboarding: {notification_short: ''}\n", "onboarding.notification_short"},
		{"smtp: {host: smtp.example.org}\n", "smtp.from"},
		{"smtp: {host: smtp.example.org, from: a@b.example, tls: ssl}\n", "smtp.tls"},
		{"smtp: {host: smtp.example.org, from: a@b.example, port: 0}\n", "smtp.port"},
		{"smtp: {host: smtp.example.org, from: a@b.example, username: u}\n", "smtp.password"},
		{"smtp: {host: smtp.example.org, from: a@b.example, username: u, password: p, tls: none}\n", "in clear"},
	}
	for _, tc := range cases {
		_, err := Load(writeFile(t, "c.yaml", tc.yaml), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: want error mentioning %q, got %v", tc.yaml, tc.want, err)
		}
	}
	// Plain SMTP without a password to a local relay is fine.
	if _, err := Load(writeFile(t, "c.yaml", "smtp: {host: 127.0.0.1, port: 25, tls: none, from: a@b.example}\n"), nil); err != nil {
		t.Errorf("local relay: %v", err)
	}
}

// Without Nextcloud the default policy is standalone; with it link_only;
// standalone together with a Nextcloud URL is a configuration error.
func TestStandalonePolicyDefault(t *testing.T) {
	cfg, err := Load("", envMap(map[string]string{"QORTAL_OIDC_NEXTCLOUD_URL": "https://cloud.example.org", "QORTAL_OIDC_NEXTCLOUD_USER": "svc",
		"QORTAL_OIDC_NEXTCLOUD_APP_PASSWORD": "app-password-0123456789"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PolicyMode() != "link_only" {
		t.Errorf("mode with Nextcloud = %q, want link_only", cfg.PolicyMode())
	}
	_, err = Load("", envMap(map[string]string{"QORTAL_OIDC_NEXTCLOUD_URL": "https://cloud.example.org", "QORTAL_OIDC_NEXTCLOUD_USER": "svc",
		"QORTAL_OIDC_NEXTCLOUD_APP_PASSWORD": "app-password-0123456789", "QORTAL_OIDC_POLICY_MODE": "standalone"}))
	if err == nil || !strings.Contains(err.Error(), "policy.mode: standalone") || !strings.Contains(err.Error(), "nextcloud.url") {
		t.Errorf("standalone with a Nextcloud URL: %v", err)
	}
	cfg, err = Load("", envMap(map[string]string{"QORTAL_OIDC_POLICY_MODE": "standalone"}))
	if err != nil || cfg.PolicyMode() != "standalone" {
		t.Errorf("explicit standalone without Nextcloud: %v %q", err, cfg.PolicyMode())
	}
}
