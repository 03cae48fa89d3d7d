package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
)

// Validate checks every key and reports all problems at once, each naming
// the key and why it is wrong.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}

	if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		bad("issuer", "must be an absolute http(s) URL without query or fragment, got %q", c.Issuer)
	} else if strings.HasSuffix(c.Issuer, "/") {
		bad("issuer", "must not end with '/': relying parties compare it byte for byte with the ID token's iss")
	} else if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) && !c.OIDC.AllowInsecureIssuer {
		// Checked here, with the other keys, so the broker refuses before it
		// writes anything (the dev key-encryption key, the embedded store).
		bad("issuer", "%q uses plain http on a host that is not loopback: use https (http is only for localhost/127.0.0.1/::1, or with oidc.allow_insecure_issuer in tests)", c.Issuer)
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
		bad("listen", "must be host:port (for example 127.0.0.1:8080 or :8080), got %q", c.Listen)
	}
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			bad("database_url", "must be a postgres:// URL (leave empty for the embedded store)")
		}
	} else if c.DataDir == "" {
		bad("data_dir", "must be set when database_url is empty (the embedded store lives there)")
	}
	positive(bad, "shutdown_timeout", c.ShutdownTimeout)
	positive(bad, "database_connect_timeout", c.DatabaseConnectTimeout)
	if c.DatabaseMaxConns < 0 || c.DatabaseMaxConns > 1000 {
		bad("database_max_conns", "must be 0 (default) to 1000, got %d", c.DatabaseMaxConns)
	}
	if c.Debug.PprofListen != "" {
		if err := loopbackAddr(c.Debug.PprofListen); err != nil {
			bad("debug.pprof_listen", "%v", err)
		}
	}

	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		bad("log.format", "must be json or text, got %q", c.Log.Format)
	}
	for i, a := range c.Admin.Addresses {
		if err := qortal.ValidateAddress(a); err != nil {
			bad(fmt.Sprintf("admin.addresses[%d]", i), "%q is not a Qortal address: %v", a, err)
		}
	}
	positive(bad, "admin.session_ttl", c.Admin.SessionTTL)
	seen := map[string]bool{}
	for i, t := range c.Admin.Tokens {
		if seen[t.TokenSHA256] {
			bad(fmt.Sprintf("admin.tokens[%d]", i), "duplicate token")
		}
		seen[t.TokenSHA256] = true
	}

	if c.Nextcloud.URL != "" {
		if u, err := url.Parse(c.Nextcloud.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("nextcloud.url", "must be an absolute http(s) URL")
		} else if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			// The client refuses these too, but only at start-up and without
			// naming the key; the URL is not echoed: it may hold a password.
			bad("nextcloud.url", "must not carry credentials, a query or a fragment (set nextcloud.user and app_password instead)")
		}
		if c.Nextcloud.User == "" {
			bad("nextcloud.user", "required when nextcloud.url is set")
		}
		if c.Nextcloud.AppPassword == "" {
			bad("nextcloud.app_password", "required when nextcloud.url is set (or use app_password_file)")
		}
	}
	if c.Nextcloud.LoginURL != "" {
		// Not tied to nextcloud.url's host: the broker may reach Nextcloud
		// at an internal name while people use its public one.
		if u, err := url.Parse(c.Nextcloud.LoginURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
			bad("nextcloud.login_url", "must be an absolute http(s) URL without credentials or a fragment, such as https://cloud.example.org/index.php/apps/user_oidc/login/1")
		}
	}
	if c.Nextcloud.APIVersion != 1 && c.Nextcloud.APIVersion != 2 {
		bad("nextcloud.api_version", "must be 1 or 2, got %d", c.Nextcloud.APIVersion)
	}
	positive(bad, "nextcloud.timeout", c.Nextcloud.Timeout)
	if c.Nextcloud.MaxConcurrent < 1 || c.Nextcloud.MaxConcurrent > 1000 {
		bad("nextcloud.max_concurrent", "must be between 1 and 1000, got %d", c.Nextcloud.MaxConcurrent)
	}
	positive(bad, "nextcloud.queue_timeout", c.Nextcloud.QueueTimeout)
	if c.Nextcloud.MaxRetries < 0 || c.Nextcloud.MaxRetries > 5 {
		bad("nextcloud.max_retries", "must be between 0 and 5, got %d", c.Nextcloud.MaxRetries)
	}

	if err := CheckUserIDTemplate(c.Provision.UserIDTemplate); err != nil {
		bad("provision.user_id_template", "%v", err)
	}
	positive(bad, "provision.challenge_ttl", c.Provision.ChallengeTTL)
	// The same rule the provisioning API applies to requested groups: a bad
	// default group would otherwise fail every account creation at Nextcloud.
	for i, g := range c.Provision.DefaultGroups {
		if g == "" || utf8.RuneCountInString(g) > 64 || strings.ContainsAny(g, "/\\\x00\r\n") {
			bad(fmt.Sprintf("provision.default_groups[%d]", i), "%q must be 1-64 characters without slashes or line breaks", g)
		}
	}
	if q := c.Provision.DefaultQuota; q != "" && !nextcloud.ValidQuota(q) {
		bad("provision.default_quota", "%q is not a Nextcloud quota: use none, default, or a size such as 5 GB", q)
	}

	switch c.OIDC.SigningAlg {
	case "RS256", "ES256", "EdDSA":
	default:
		bad("oidc.signing_alg", "must be RS256, ES256 or EdDSA (what Nextcloud's user_oidc accepts), got %q", c.OIDC.SigningAlg)
	}
	switch c.OIDC.AccessTokenFormat {
	case AccessTokenOpaque, AccessTokenJWT:
	default:
		bad("oidc.access_token_format", "must be opaque or jwt, got %q", c.OIDC.AccessTokenFormat)
	}
	for i, o := range c.OIDC.CORSAllowedOrigins {
		if !isOrigin(o) {
			bad(fmt.Sprintf("oidc.cors_allowed_origins[%d]", i), "%q must be an origin exactly as browsers send it: lower-case scheme://host[:port], nothing after it (and not *)", o)
		}
	}
	if c.OIDC.KeyEncryptionKey == nil && c.DatabaseURL != "" {
		bad("oidc.key_encryption_key", "required with database_url: every replica must decrypt the same signing keys")
	}
	for key, d := range map[string]time.Duration{
		"oidc.access_token_ttl": c.OIDC.AccessTokenTTL, "oidc.id_token_ttl": c.OIDC.IDTokenTTL,
		"oidc.refresh_token_ttl": c.OIDC.RefreshTokenTTL, "oidc.auth_request_ttl": c.OIDC.AuthRequestTTL,
		"oidc.key_publish_lead": c.OIDC.KeyPublishLead,
	} {
		positive(bad, key, d)
	}
	if c.OIDC.KeyRotationPeriod < 0 || (c.OIDC.KeyRotationPeriod > 0 && c.OIDC.KeyRotationPeriod <= c.OIDC.KeyPublishLead) {
		bad("oidc.key_rotation_period", "must be 0 (off) or longer than oidc.key_publish_lead (%s)", c.OIDC.KeyPublishLead)
	}
	ids := map[string]bool{}
	for i, cl := range c.OIDC.Clients {
		key := fmt.Sprintf("oidc.clients[%d]", i)
		if cl.ID == "" {
			bad(key+".id", "required")
		} else if ids[cl.ID] {
			bad(key+".id", "duplicate client id %q", cl.ID)
		}
		ids[cl.ID] = true
		if !cl.Public && cl.Secret == "" && cl.SecretSHA256 == "" {
			bad(key+".secret", "confidential clients need secret or secret_sha256 (or set public: true)")
		}
		if cl.Secret != "" && len(cl.Secret) < 32 {
			bad(key+".secret", "must be at least 32 characters (generate one with: qortal-oidc clients add)")
		}
		if len(cl.RedirectURIs) == 0 {
			bad(key+".redirect_uris", "at least one exact redirect URI is required")
		}
		for _, r := range cl.RedirectURIs {
			if u, err := url.Parse(r); err != nil || u.Scheme == "" || u.Host == "" || u.Fragment != "" {
				bad(key+".redirect_uris", "%q is not an absolute URL without fragment", r)
			}
		}
	}
	positive(bad, "login.challenge_ttl", c.Login.ChallengeTTL)
	if c.Login.ChallengeTTL > 15*time.Minute {
		bad("login.challenge_ttl", "at most 15m: a challenge is meant to be signed right away")
	}
	if c.Login.SessionTTL < 0 || c.Login.SessionTTL > 90*24*time.Hour {
		bad("login.session_ttl", "must be between 0 (single sign-on off) and 2160h, got %s", c.Login.SessionTTL)
	}
	if c.Login.RateLimit.PerIPPerMinute <= 0 || c.Login.RateLimit.PerAddressPerMinute <= 0 || c.Login.RateLimit.AuthorizePerIPPerMinute <= 0 {
		bad("login.rate_limit", "per_ip_per_minute, per_address_per_minute and authorize_per_ip_per_minute must be positive")
	}
	if c.Qortal.NodeURL != "" {
		if u, err := url.Parse(c.Qortal.NodeURL); err != nil || u.Host == "" {
			bad("qortal.node_url", "must be an absolute URL such as http://127.0.0.1:12391")
		}
	}
	errs = append(errs, validateQApps(c)...)
	errs = append(errs, validatePolicy(c)...)
	return errors.Join(errs...)
}

func positive(bad func(string, string, ...any), key string, d time.Duration) {
	if d <= 0 {
		bad(key, "must be a positive duration such as 30s or 5m, got %s", d)
	}
}

// CheckUserIDTemplate accepts templates with exactly one {address} or
// {address_lower} placeholder and only characters Nextcloud allows in user
// ids around it.
func CheckUserIDTemplate(t string) error {
	n := strings.Count(t, "{address}") + strings.Count(t, "{address_lower}")
	if n != 1 {
		return fmt.Errorf("must contain {address} or {address_lower} exactly once, got %q", t)
	}
	rest := strings.NewReplacer("{address}", "", "{address_lower}", "").Replace(t)
	for _, r := range rest {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.@-", r)) {
			return fmt.Errorf("character %q is not allowed in Nextcloud user ids", r)
		}
	}
	if len(rest)+34 > 64 {
		return fmt.Errorf("prefix and suffix leave no room for a 34-character address within Nextcloud's 64-character limit")
	}
	return nil
}

// UserIDFor applies a checked template to an address.
func UserIDFor(template, address string) string {
	return strings.NewReplacer("{address}", address, "{address_lower}", strings.ToLower(address)).Replace(template)
}

// isOrigin reports whether o is a serialised web origin as browsers send it
// in the Origin header.
func isOrigin(o string) bool {
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil &&
		u.Path == "" && u.RawQuery == "" && !u.ForceQuery && u.Fragment == "" && strings.ToLower(o) == o
}

// loopbackAddr accepts host:port where host is a loopback IP or localhost.
func loopbackAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return fmt.Errorf("must be host:port on loopback (for example 127.0.0.1:6060), got %q", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("must listen on a loopback address (127.0.0.1, ::1 or localhost), got %q: profiles expose memory contents", host)
	}
	return nil
}

// OriginOf is scheme://host[:port] of an absolute URL, lower-cased, or "".
func OriginOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

func validateQApps(c Config) []error {
	q := c.QApps
	if !q.Enabled() {
		return nil
	}
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	u, err := url.Parse(q.Origin)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		bad("qapps.origin", "must be an origin such as https://qapps.example.org (scheme and host, no path), got %q", q.Origin)
	case OriginOf(q.Origin) == OriginOf(c.Issuer):
		// The whole point of the gateway's own origin: app script must never
		// share an origin with the login page, the console or their cookies.
		bad("qapps.origin", "must not be the issuer's origin %s: apps would run next to the login page and the console", OriginOf(c.Issuer))
	case u.Scheme == "http" && !c.OIDC.AllowInsecureIssuer && !isLoopbackHost(u.Hostname()):
		bad("qapps.origin", "must be https (http is only for loopback or with oidc.allow_insecure_issuer)")
	}
	if c.Qortal.NodeURL == "" {
		bad("qortal.node_url", "is required by the Q-Apps gateway (qapps.origin is set)")
	}
	if q.Listen != "" {
		if _, port, err := net.SplitHostPort(q.Listen); err != nil || port == "" {
			bad("qapps.listen", "must be host:port, got %q", q.Listen)
		} else if q.Listen == c.Listen {
			bad("qapps.listen", "must differ from listen (leave it empty to serve the gateway by Host on the main listener)")
		}
	}
	if q.NextcloudOrigin != "" && OriginOf(q.NextcloudOrigin) == "" {
		bad("qapps.nextcloud_origin", "must be an origin such as https://cloud.example.org, got %q", q.NextcloudOrigin)
	}
	if q.CacheMaxBytes < 0 || q.CacheMaxBytes > 0 && q.CacheMaxBytes < 1<<20 {
		bad("qapps.cache_max_bytes", "must be 0 (unbounded) or a size in bytes of at least 1048576 (1 MiB), got %d", q.CacheMaxBytes)
	}
	positive(bad, "qapps.session_ttl", q.SessionTTL)
	positive(bad, "qapps.group_cache_ttl", q.GroupCacheTTL)
	positive(bad, "qapps.node_timeout", q.NodeTimeout)
	if q.GroupCacheTTL > 10*time.Minute {
		bad("qapps.group_cache_ttl", "at most 10m: removing someone from a group must take effect soon")
	}
	return errs
}
