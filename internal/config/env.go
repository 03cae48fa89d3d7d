package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// envBinding maps one QORTAL_OIDC_* variable onto a config field. A table
// rather than reflection keeps the list of overrides greppable and exact.
type envBinding struct {
	name string
	set  func(c *Config, v string) error
}

func str(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func dur(p func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("want a duration like 5m or 1h30m: %w", err)
		}
		*p(c) = d
		return nil
	}
}

func integer(p func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("want an integer: %w", err)
		}
		*p(c) = n
		return nil
	}
}

func integer64(p func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("want an integer: %w", err)
		}
		*p(c) = n
		return nil
	}
}

func boolean(p func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false: %w", err)
		}
		*p(c) = b
		return nil
	}
}

func list(p func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error {
		var out []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		*p(c) = out
		return nil
	}
}

var envBindings = []envBinding{
	{"QORTAL_OIDC_ISSUER", str(func(c *Config) *string { return &c.Issuer })},
	{"QORTAL_OIDC_LISTEN", str(func(c *Config) *string { return &c.Listen })},
	{"QORTAL_OIDC_DATA_DIR", str(func(c *Config) *string { return &c.DataDir })},
	{"QORTAL_OIDC_DATABASE_URL", str(func(c *Config) *string { return &c.DatabaseURL })},
	{"QORTAL_OIDC_DATABASE_PASSWORD_FILE", str(func(c *Config) *string { return &c.DatabasePasswordFile })},
	{"QORTAL_OIDC_DATABASE_CONNECT_TIMEOUT", dur(func(c *Config) *time.Duration { return &c.DatabaseConnectTimeout })},
	{"QORTAL_OIDC_DATABASE_MAX_CONNS", integer(func(c *Config) *int { return &c.DatabaseMaxConns })},
	{"QORTAL_OIDC_DEBUG_PPROF_LISTEN", str(func(c *Config) *string { return &c.Debug.PprofListen })},
	{"QORTAL_OIDC_SHUTDOWN_TIMEOUT", dur(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"QORTAL_OIDC_LOG_LEVEL", str(func(c *Config) *string { return &c.Log.Level })},
	{"QORTAL_OIDC_LOG_FORMAT", str(func(c *Config) *string { return &c.Log.Format })},
	{"QORTAL_OIDC_ADMIN_TOKEN", func(c *Config, v string) error {
		// The environment token joins (not replaces) file-configured ones so a
		// container can add a break-glass credential without editing YAML.
		c.Admin.Tokens = append(c.Admin.Tokens, AdminToken{Name: "env", Token: v})
		return nil
	}},
	{"QORTAL_OIDC_ADMIN_TOKEN_FILE", func(c *Config, v string) error {
		c.Admin.Tokens = append(c.Admin.Tokens, AdminToken{Name: "env-file", TokenFile: v})
		return nil
	}},
	{"QORTAL_OIDC_ADMIN_ADDRESSES", list(func(c *Config) *[]string { return &c.Admin.Addresses })},
	{"QORTAL_OIDC_NEXTCLOUD_URL", str(func(c *Config) *string { return &c.Nextcloud.URL })},
	{"QORTAL_OIDC_NEXTCLOUD_USER", str(func(c *Config) *string { return &c.Nextcloud.User })},
	{"QORTAL_OIDC_NEXTCLOUD_APP_PASSWORD", str(func(c *Config) *string { return &c.Nextcloud.AppPassword })},
	{"QORTAL_OIDC_NEXTCLOUD_APP_PASSWORD_FILE", str(func(c *Config) *string { return &c.Nextcloud.AppPasswordFile })},
	{"QORTAL_OIDC_NEXTCLOUD_API_VERSION", integer(func(c *Config) *int { return &c.Nextcloud.APIVersion })},
	{"QORTAL_OIDC_NEXTCLOUD_TIMEOUT", dur(func(c *Config) *time.Duration { return &c.Nextcloud.Timeout })},
	{"QORTAL_OIDC_NEXTCLOUD_MAX_CONCURRENT", integer(func(c *Config) *int { return &c.Nextcloud.MaxConcurrent })},
	{"QORTAL_OIDC_NEXTCLOUD_QUEUE_TIMEOUT", dur(func(c *Config) *time.Duration { return &c.Nextcloud.QueueTimeout })},
	{"QORTAL_OIDC_NEXTCLOUD_CREATE_MISSING_GROUPS", boolean(func(c *Config) *bool { return &c.Nextcloud.CreateMissingGroups })},
	{"QORTAL_OIDC_NEXTCLOUD_LOGIN_URL", str(func(c *Config) *string { return &c.Nextcloud.LoginURL })},
	{"QORTAL_OIDC_PROVISION_USER_ID_TEMPLATE", str(func(c *Config) *string { return &c.Provision.UserIDTemplate })},
	{"QORTAL_OIDC_PROVISION_DEFAULT_GROUPS", list(func(c *Config) *[]string { return &c.Provision.DefaultGroups })},
	{"QORTAL_OIDC_PROVISION_DEFAULT_QUOTA", str(func(c *Config) *string { return &c.Provision.DefaultQuota })},
	{"QORTAL_OIDC_PROVISION_CHALLENGE_TTL", dur(func(c *Config) *time.Duration { return &c.Provision.ChallengeTTL })},
	{"QORTAL_OIDC_PROVISION_DISABLE_BLOCKED_USERS", boolean(func(c *Config) *bool { return &c.Provision.DisableBlockedUsers })},
	{"QORTAL_OIDC_SIGNING_ALG", str(func(c *Config) *string { return &c.OIDC.SigningAlg })},
	{"QORTAL_OIDC_KEY_ENCRYPTION_KEY", str(func(c *Config) *string { return &c.OIDC.KeyEncryptionKeyRaw })},
	{"QORTAL_OIDC_KEY_ENCRYPTION_KEY_FILE", str(func(c *Config) *string { return &c.OIDC.KeyEncryptionKeyFile })},
	{"QORTAL_OIDC_KEY_ROTATION_PERIOD", dur(func(c *Config) *time.Duration { return &c.OIDC.KeyRotationPeriod })},
	{"QORTAL_OIDC_ALLOW_INSECURE_ISSUER", boolean(func(c *Config) *bool { return &c.OIDC.AllowInsecureIssuer })},
	{"QORTAL_OIDC_ACCESS_TOKEN_FORMAT", str(func(c *Config) *string { return &c.OIDC.AccessTokenFormat })},
	{"QORTAL_OIDC_CORS_ALLOWED_ORIGINS", list(func(c *Config) *[]string { return &c.OIDC.CORSAllowedOrigins })},
	{"QORTAL_OIDC_GROUPS_CLAIM", list(func(c *Config) *[]string { return &c.OIDC.GroupsClaim })},
	{"QORTAL_OIDC_EMAILS_VERIFIED", boolean(func(c *Config) *bool { return &c.OIDC.EmailsVerified })},
	{"QORTAL_OIDC_LOGIN_CHALLENGE_TTL", dur(func(c *Config) *time.Duration { return &c.Login.ChallengeTTL })},
	{"QORTAL_OIDC_LOGIN_SESSION_TTL", dur(func(c *Config) *time.Duration { return &c.Login.SessionTTL })},
	{"QORTAL_OIDC_LOGIN_RATE_LIMIT_PER_IP_PER_MINUTE", integer(func(c *Config) *int { return &c.Login.RateLimit.PerIPPerMinute })},
	{"QORTAL_OIDC_LOGIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE", integer(func(c *Config) *int { return &c.Login.RateLimit.PerAddressPerMinute })},
	{"QORTAL_OIDC_LOGIN_RATE_LIMIT_AUTHORIZE_PER_IP_PER_MINUTE", integer(func(c *Config) *int { return &c.Login.RateLimit.AuthorizePerIPPerMinute })},
	{"QORTAL_OIDC_LOGIN_TRUST_PROXY_HEADERS", boolean(func(c *Config) *bool { return &c.Login.TrustProxyHeaders })},
	{"QORTAL_OIDC_QORTAL_NODE_URL", str(func(c *Config) *string { return &c.Qortal.NodeURL })},
	{"QORTAL_OIDC_QORTAL_API_KEY_FILE", str(func(c *Config) *string { return &c.Qortal.APIKeyFile })},
	{"QORTAL_OIDC_QAPPS_ORIGIN", str(func(c *Config) *string { return &c.QApps.Origin })},
	{"QORTAL_OIDC_QAPPS_LISTEN", str(func(c *Config) *string { return &c.QApps.Listen })},
	{"QORTAL_OIDC_QAPPS_CACHE_DIR", str(func(c *Config) *string { return &c.QApps.CacheDir })},
	{"QORTAL_OIDC_QAPPS_CACHE_MAX_BYTES", integer64(func(c *Config) *int64 { return &c.QApps.CacheMaxBytes })},
	{"QORTAL_OIDC_QAPPS_NEXTCLOUD_ORIGIN", str(func(c *Config) *string { return &c.QApps.NextcloudOrigin })},
	{"QORTAL_OIDC_DEMO_ENABLED", boolean(func(c *Config) *bool { return &c.Demo.Enabled })},
	{"QORTAL_OIDC_ACCOUNT_ALLOW_UNLINK", boolean(func(c *Config) *bool { return &c.Account.AllowUnlink })},
	{"QORTAL_OIDC_POLICY_MODE", str(func(c *Config) *string { return &c.Policy.Mode })},
	{"QORTAL_OIDC_POLICY_GUARD", str(func(c *Config) *string { return &c.Policy.Guard })},
	{"QORTAL_OIDC_ONBOARDING_PUBLIC_URL", str(func(c *Config) *string { return &c.Onboarding.PublicURL })},
	{"QORTAL_OIDC_SMTP_HOST", str(func(c *Config) *string { return &c.SMTP.Host })},
	{"QORTAL_OIDC_SMTP_PORT", integer(func(c *Config) *int { return &c.SMTP.Port })},
	{"QORTAL_OIDC_SMTP_USERNAME", str(func(c *Config) *string { return &c.SMTP.Username })},
	{"QORTAL_OIDC_SMTP_PASSWORD", str(func(c *Config) *string { return &c.SMTP.Password })},
	{"QORTAL_OIDC_SMTP_PASSWORD_FILE", str(func(c *Config) *string { return &c.SMTP.PasswordFile })},
	{"QORTAL_OIDC_SMTP_FROM", str(func(c *Config) *string { return &c.SMTP.From })},
	{"QORTAL_OIDC_SMTP_TLS", str(func(c *Config) *string { return &c.SMTP.TLS })},
}

// EnvNames lists every supported override, for docs and tests.
func EnvNames() []string {
	out := make([]string, len(envBindings))
	for i, b := range envBindings {
		out[i] = b.name
	}
	return out
}

func applyEnv(c *Config, getenv func(string) string) []error {
	if getenv == nil {
		return nil
	}
	var errs []error
	for _, b := range envBindings {
		v := getenv(b.name)
		if v == "" {
			continue
		}
		if err := b.set(c, v); err != nil {
			errs = append(errs, fmt.Errorf("environment %s=%q: %w", b.name, v, err))
		}
	}
	return errs
}
