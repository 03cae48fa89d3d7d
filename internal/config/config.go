// Package config loads the broker's configuration: a YAML file, then
// QORTAL_OIDC_* environment overrides, then validation that names the key at
// fault. Nothing else in the broker reads the environment.
package config

import (
	"errors"
	"fmt"
	"os"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole broker configuration.
type Config struct {
	// Issuer is the public base URL of the broker, byte-for-byte the OIDC iss.
	Issuer string `yaml:"issuer"`
	// Listen is the host:port the HTTP server binds.
	Listen string `yaml:"listen"`
	// DataDir holds the embedded store (and generated dev secrets).
	DataDir string `yaml:"data_dir"`
	// DatabaseURL selects Postgres when set (postgres://...); empty selects
	// the embedded store in DataDir.
	DatabaseURL string `yaml:"database_url"`
	// DatabasePasswordFile holds the Postgres password, put into
	// DatabaseURL at load: the URL can then live in plain configuration
	// and the password in a secret file (the one the Postgres container
	// reads too, in docker-compose.yml).
	DatabasePasswordFile string `yaml:"database_password_file"`
	// DatabaseConnectTimeout bounds how long start-up waits for a Postgres
	// that is not up yet (retrying with backoff) before giving up.
	DatabaseConnectTimeout time.Duration `yaml:"database_connect_timeout"`
	// DatabaseMaxConns is the Postgres connection pool size per replica.
	// 0 means pool_max_conns from DatabaseURL when given, else
	// DefaultDatabaseMaxConns.
	DatabaseMaxConns int `yaml:"database_max_conns"`
	// ShutdownTimeout bounds how long in-flight requests may finish.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`

	Log       Log       `yaml:"log"`
	Admin     Admin     `yaml:"admin"`
	Nextcloud Nextcloud `yaml:"nextcloud"`
	Provision Provision `yaml:"provision"`
	OIDC      OIDC      `yaml:"oidc"`
	Login     Login     `yaml:"login"`
	Qortal    Qortal    `yaml:"qortal"`
	QApps     QApps     `yaml:"qapps"`

	Policy     Policy     `yaml:"policy"`
	Onboarding Onboarding `yaml:"onboarding"`
	Demo       Demo       `yaml:"demo"`
	Account    Account    `yaml:"account"`
	SMTP       SMTP       `yaml:"smtp"`

	Debug Debug `yaml:"debug"`
}

// Demo is the built-in demo relying party at /demo.
type Demo struct {
	// Enabled registers the demo client and serves /demo (dev config: on;
	// default and production: off).
	Enabled bool `yaml:"enabled"`
}

// Account configures the users' self-service page /account.
type Account struct {
	// AllowUnlink lets users remove the link between their address and
	// their Nextcloud account themselves (audited). Default false.
	AllowUnlink bool `yaml:"allow_unlink"`
}

// DefaultDatabaseMaxConns suits a broker replica on a few cores: a login
// holds a connection only for its short transactions, so 20 connections
// keep every request busy on CPU rather than queued for the pool, while
// ten replicas still fit Postgres's default max_connections (100).
const DefaultDatabaseMaxConns = 20

// Debug holds settings for diagnosing a running broker.
type Debug struct {
	// PprofListen, when set, serves net/http/pprof on this address, which
	// must be a loopback one (127.0.0.1:6060, [::1]:6060, localhost:6060):
	// profiles reveal memory contents. Empty (the default) serves nothing.
	PprofListen string `yaml:"pprof_listen"`
}

// Log configures structured logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or text
}

// Admin holds the credentials accepted by the admin API and console.
type Admin struct {
	// Addresses are the Qortal addresses that may sign in to the /admin
	// console (with a signed challenge, like users at login).
	Addresses []string `yaml:"addresses"`
	// SessionTTL bounds a console session.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// Tokens lists admin credentials. Each gives either Token (plaintext,
	// hashed as soon as it is loaded) or TokenSHA256 (hex).
	Tokens []AdminToken `yaml:"tokens"`
}

// AdminToken is one admin API credential. Name is what the audit log records.
type AdminToken struct {
	Name        string `yaml:"name"`
	Token       string `yaml:"token"`
	TokenFile   string `yaml:"token_file"`
	TokenSHA256 string `yaml:"token_sha256"`
}

// Nextcloud configures the OCS service account.
type Nextcloud struct {
	URL             string        `yaml:"url"`
	User            string        `yaml:"user"`
	AppPassword     string        `yaml:"app_password"`
	AppPasswordFile string        `yaml:"app_password_file"`
	APIVersion      int           `yaml:"api_version"`
	Timeout         time.Duration `yaml:"timeout"`
	MaxRetries      int           `yaml:"max_retries"`
	// MaxConcurrent caps requests in flight to Nextcloud per replica;
	// QueueTimeout is how long a request waits for a slot before the
	// broker answers 503 nextcloud_unavailable (a slow Nextcloud must not
	// tie up every connection of the broker).
	MaxConcurrent int           `yaml:"max_concurrent"`
	QueueTimeout  time.Duration `yaml:"queue_timeout"`
	// CreateMissingGroups lets provisioning create groups it is asked to add
	// users to; off means an unknown group is an error.
	CreateMissingGroups bool `yaml:"create_missing_groups"`
	// LoginURL is where a user who has just linked their address through
	// an onboarding invite continues: user_oidc's login link for this
	// provider (/index.php/apps/user_oidc/login/<its numeric id>), so that
	// the broker session the invite's signature opened signs them straight
	// in. The broker cannot derive it (user_oidc numbers its providers);
	// empty: URL, Nextcloud's own login page.
	LoginURL string `yaml:"login_url"`
}

// Provision configures account creation.
type Provision struct {
	// UserIDTemplate builds the Nextcloud user id for new accounts from the
	// address: {address} (as is) or {address_lower}, with a fixed prefix or
	// suffix around it. It must be deterministic so a retry after a crash
	// finds the user the first attempt created.
	UserIDTemplate string        `yaml:"user_id_template"`
	DefaultGroups  []string      `yaml:"default_groups"`
	DefaultQuota   string        `yaml:"default_quota"`
	ChallengeTTL   time.Duration `yaml:"challenge_ttl"`
	// DisableBlockedUsers disables the Nextcloud account when its address
	// is blocked (and enables it on unblock): app passwords from Login Flow
	// v2 keep WebDAV working after the broker's tokens end.
	DisableBlockedUsers bool `yaml:"disable_blocked_users"`
}

// OIDC configures the OpenID Provider.
type OIDC struct {
	SigningAlg string `yaml:"signing_alg"` // RS256 (default), ES256 or EdDSA
	// KeyEncryptionKeyRaw is 32 bytes, base64 or hex, used to encrypt signing
	// keys at rest. Empty: a key is generated once in DataDir (dev only).
	KeyEncryptionKeyRaw  string `yaml:"key_encryption_key"`
	KeyEncryptionKeyFile string `yaml:"key_encryption_key_file"`
	// KeyEncryptionKey is the decoded key, filled by Load.
	KeyEncryptionKey []byte `yaml:"-"`

	KeyRotationPeriod   time.Duration `yaml:"key_rotation_period"`
	KeyPublishLead      time.Duration `yaml:"key_publish_lead"`
	AccessTokenTTL      time.Duration `yaml:"access_token_ttl"`
	IDTokenTTL          time.Duration `yaml:"id_token_ttl"`
	RefreshTokenTTL     time.Duration `yaml:"refresh_token_ttl"`
	AuthRequestTTL      time.Duration `yaml:"auth_request_ttl"`
	AllowInsecureIssuer bool          `yaml:"allow_insecure_issuer"`
	// AccessTokenFormat is "opaque" (default: encrypted, checked at
	// userinfo/introspection, revocable at once) or "jwt" (RFC 9068, signed:
	// resource servers such as user_oidc's --check-bearer verify it offline,
	// and a revoked one keeps verifying there until it expires).
	AccessTokenFormat string `yaml:"access_token_format"`
	// CORSAllowedOrigins may call /token and /userinfo from a browser.
	CORSAllowedOrigins []string `yaml:"cors_allowed_origins"`
	GroupsClaim        []string `yaml:"groups_claim"`
	// EmailsVerified asserts email_verified=true for the emails admins put
	// on mappings (provisioning API, console, onboarding). The broker never
	// verifies an address itself, so it is off unless the operator vouches
	// for how those emails were obtained.
	EmailsVerified bool     `yaml:"emails_verified"`
	Clients        []Client `yaml:"clients"`
}

// Access token formats (oidc.access_token_format).
const (
	AccessTokenOpaque = "opaque"
	AccessTokenJWT    = "jwt"
)

// Client is a relying party registered from configuration.
type Client struct {
	ID                     string   `yaml:"id"`
	Name                   string   `yaml:"name"`
	Secret                 string   `yaml:"secret"`
	SecretSHA256           string   `yaml:"secret_sha256"`
	RedirectURIs           []string `yaml:"redirect_uris"`
	PostLogoutRedirectURIs []string `yaml:"post_logout_redirect_uris"`
	BackchannelLogoutURI   string   `yaml:"backchannel_logout_uri"`
	Public                 bool     `yaml:"public"`
}

// Login configures the Qortal login page and its JSON API.
type Login struct {
	ChallengeTTL time.Duration `yaml:"challenge_ttl"`
	// SessionTTL is the life of the broker's own browser session (single
	// sign-on): within it, further logins in the same browser skip the
	// signature. 0 turns single sign-on off (every login signs).
	SessionTTL        time.Duration `yaml:"session_ttl"`
	RateLimit         RateLimit     `yaml:"rate_limit"`
	TrustProxyHeaders bool          `yaml:"trust_proxy_headers"`
}

// RateLimit bounds public endpoint use per replica.
type RateLimit struct {
	PerIPPerMinute      int `yaml:"per_ip_per_minute"`
	PerAddressPerMinute int `yaml:"per_address_per_minute"`
	// AuthorizePerIPPerMinute bounds /authorize and /end_session, which
	// anyone can call and which write to the store.
	AuthorizePerIPPerMinute int `yaml:"authorize_per_ip_per_minute"`
}

// Qortal configures the optional Qortal node used for registered names.
type Qortal struct {
	NodeURL      string        `yaml:"node_url"`
	NameCacheTTL time.Duration `yaml:"name_cache_ttl"`
	// APIKeyFile holds the node's API key (its apikey.txt), which the node
	// requires to render QDN resources for the Q-Apps gateway.
	APIKeyFile string `yaml:"api_key_file"`
	// APIKey is read from APIKeyFile by Load; never logged.
	APIKey string `yaml:"-"`
}

// QApps configures the Q-Apps gateway: approved Qortal apps served from the
// node on an origin of their own. Off while Origin is empty.
type QApps struct {
	// Origin is the gateway's public origin (scheme://host[:port]); it must
	// differ from the issuer's so app script can never reach the broker.
	Origin string `yaml:"origin"`
	// Listen is an extra host:port for the gateway alone; empty means the
	// main listener serves it for requests whose Host is the origin's.
	Listen string `yaml:"listen"`
	// CacheDir keeps app files by pinned version; default data_dir/qapps-cache.
	CacheDir string `yaml:"cache_dir"`
	// CacheMaxBytes bounds the cache: over it, the least recently used
	// versions are removed first. 0: unbounded. Versions no app pins are
	// removed either way.
	CacheMaxBytes int64 `yaml:"cache_max_bytes"`
	// NextcloudOrigin may frame the gateway (CSP frame-ancestors); default
	// the origin of nextcloud.url.
	NextcloudOrigin string `yaml:"nextcloud_origin"`
	// SessionTTL bounds a gateway sign-in.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// GroupCacheTTL is how long a user's Nextcloud groups are reused.
	GroupCacheTTL time.Duration `yaml:"group_cache_ttl"`
	// NodeTimeout bounds one request to the node before the gateway answers 504.
	NodeTimeout time.Duration `yaml:"node_timeout"`
}

// Enabled reports whether the gateway is configured.
func (q QApps) Enabled() bool { return q.Origin != "" }

// Default returns the configuration used when a key is not set anywhere.
func Default() Config {
	return Config{
		Issuer:                 "http://127.0.0.1:8080",
		Listen:                 "127.0.0.1:8080",
		DataDir:                "./data",
		ShutdownTimeout:        20 * time.Second,
		DatabaseConnectTimeout: time.Minute,
		Log:                    Log{Level: "info", Format: "json"},
		Admin:                  Admin{SessionTTL: 8 * time.Hour},
		Nextcloud:              Nextcloud{APIVersion: 2, Timeout: 10 * time.Second, MaxRetries: 2, MaxConcurrent: 8, QueueTimeout: time.Second},
		Provision:              Provision{UserIDTemplate: "{address}", ChallengeTTL: 5 * time.Minute, DisableBlockedUsers: true},
		OIDC: OIDC{
			SigningAlg:      "RS256",
			KeyPublishLead:  2 * time.Hour,
			AccessTokenTTL:  15 * time.Minute,
			IDTokenTTL:      15 * time.Minute,
			RefreshTokenTTL: 30 * 24 * time.Hour,
			AuthRequestTTL:  10 * time.Minute,

			AccessTokenFormat: AccessTokenOpaque,
		},
		Login: Login{
			ChallengeTTL: 5 * time.Minute,
			SessionTTL:   12 * time.Hour,
			RateLimit:    RateLimit{PerIPPerMinute: 30, PerAddressPerMinute: 10, AuthorizePerIPPerMinute: 120},
		},
		Qortal:     Qortal{NameCacheTTL: 10 * time.Minute},
		QApps:      QApps{CacheMaxBytes: 1 << 30, SessionTTL: 8 * time.Hour, GroupCacheTTL: time.Minute, NodeTimeout: 10 * time.Second},
		Policy:     defaultPolicy(),
		Onboarding: defaultOnboarding(),
		SMTP:       defaultSMTP(),
	}
}

// Load reads path (optional: "" means defaults only), applies environment
// overrides from getenv, resolves secret files and validates the result.
func Load(path string, getenv func(string) string) (Config, error) {
	cfg := Default()
	// Every problem is collected and reported at once, each naming its key:
	// the file's, then the environment's, then the secret files', then the
	// values'. Fixing them one start at a time is the experience to avoid.
	var errs []error
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("read config: %w", err)
		}
		var root yaml.Node
		if err := yaml.Unmarshal(raw, &root); err != nil {
			return Config{}, fmt.Errorf("config %s: %w", path, err)
		}
		if root.Kind != 0 { // an empty file: all defaults
			if problems := checkYAML(&root); len(problems) > 0 {
				for _, p := range problems {
					errs = append(errs, fmt.Errorf("config %s: %w", path, p))
				}
			} else if err := root.Decode(&cfg); err != nil {
				errs = append(errs, fmt.Errorf("config %s: %w", path, err))
			}
		}
	}
	errs = append(errs, applyEnv(&cfg, getenv)...)
	errs = append(errs, resolveSecrets(&cfg)...)
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// UsesPostgres reports whether the production store is selected.
func (c Config) UsesPostgres() bool { return c.DatabaseURL != "" }
