package oidcprovider

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// ScopeGroups asks for the groups claim explicitly (profile also gives it).
const ScopeGroups = "groups"

// client adapts a stored client to op.Client.
type client struct {
	c        store.OIDCClient
	loginURL string // issuer + loginPath
	idTTL    time.Duration
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.c.ID }
func (c *client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }

func (c *client) ApplicationType() op.ApplicationType {
	if c.c.Public {
		return op.ApplicationTypeUserAgent
	}
	return op.ApplicationTypeWeb
}

// AuthMethod: confidential clients accept client_secret_basic and, because
// the provider enables AuthMethodPost, client_secret_post too: user_oidc
// switches between them depending on discovery.
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *client) LoginURL(id string) string {
	return c.loginURL + "?authRequestID=" + url.QueryEscape(id)
}
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration       { return c.idTTL }
func (c *client) DevMode() bool                        { return false }
func (c *client) IsScopeAllowed(scope string) bool     { return scope == ScopeGroups }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true } // user_oidc reads claims from the ID token only
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// HashSecret is the stored form of a client secret.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// secretMatches compares in constant time.
func secretMatches(hash, secret string) bool {
	want, err := hex.DecodeString(hash)
	if err != nil || len(want) != sha256.Size || secret == "" {
		return false
	}
	got := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(want, got[:]) == 1
}

// NewSecret returns a 256-bit random secret in base64url: its alphabet is
// unchanged by URL (un)escaping, so it survives clients that do not encode
// Basic auth credentials (user_oidc) and servers that decode them (zitadel).
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ClientFromConfig turns a configured client into its stored form.
func ClientFromConfig(cc config.Client, now time.Time) (store.OIDCClient, error) {
	c := store.OIDCClient{
		ID: cc.ID, Name: cc.Name,
		RedirectURIs:           cc.RedirectURIs,
		PostLogoutRedirectURIs: cc.PostLogoutRedirectURIs,
		BackchannelLogoutURI:   cc.BackchannelLogoutURI,
		Public:                 cc.Public,
		FromConfig:             true,
		CreatedAt:              now,
		UpdatedAt:              now,
	}
	switch {
	case cc.Public && (cc.Secret != "" || cc.SecretSHA256 != ""):
		return c, fmt.Errorf("oidc client %s: a public client has no secret", cc.ID)
	case cc.Public:
	case cc.Secret != "":
		c.SecretHash = HashSecret(cc.Secret)
	case cc.SecretSHA256 != "":
		c.SecretHash = strings.ToLower(cc.SecretSHA256)
	default:
		return c, fmt.Errorf("oidc client %s: needs secret or secret_sha256 (or public: true)", cc.ID)
	}
	if err := ValidateClientURIs(c); err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("oidc client %s: %w", cc.ID, err)
	}
	return c, nil
}

// ValidateClientURIs checks every registered URI is absolute, has no
// fragment and uses https (http only for loopback hosts, or any host for
// confidential clients, which user_oidc dev setups need).
func ValidateClientURIs(c store.OIDCClient) error {
	check := func(kind, raw string) error {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || u.Fragment != "" || (u.Scheme != "https" && u.Scheme != "http") {
			return fmt.Errorf("oidc client %s: %s %q must be an absolute http(s) URL without fragment", c.ID, kind, raw)
		}
		if u.Scheme == "http" && c.Public {
			if _, loop := op.HTTPLoopbackOrLocalhost(raw); !loop {
				return fmt.Errorf("oidc client %s: public client %s %q must use https", c.ID, kind, raw)
			}
		}
		return nil
	}
	for _, u := range c.RedirectURIs {
		if err := check("redirect uri", u); err != nil {
			return err
		}
	}
	for _, u := range c.PostLogoutRedirectURIs {
		if err := check("post logout redirect uri", u); err != nil {
			return err
		}
	}
	if c.BackchannelLogoutURI != "" {
		return check("backchannel logout uri", c.BackchannelLogoutURI)
	}
	return nil
}

// syncConfigClients writes the configured clients into the store (config
// wins for those ids) and removes clients that came from configuration but
// are no longer in it. Clients added with the CLI are left alone.
func syncConfigClients(ctx context.Context, s store.OIDCStore, clients []config.Client, now time.Time) error {
	want := map[string]bool{}
	for _, cc := range clients {
		c, err := ClientFromConfig(cc, now)
		if err != nil {
			return err
		}
		if want[c.ID] {
			return fmt.Errorf("oidc client %s is configured twice", c.ID)
		}
		want[c.ID] = true
		if err := s.UpsertClient(ctx, c); err != nil {
			return fmt.Errorf("sync oidc client %s: %w", c.ID, err)
		}
	}
	all, err := s.ListClients(ctx)
	if err != nil {
		return fmt.Errorf("list oidc clients: %w", err)
	}
	for _, c := range all {
		if c.FromConfig && !want[c.ID] {
			if err := s.DeleteClient(ctx, c.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("remove unconfigured oidc client %s: %w", c.ID, err)
			}
		}
	}
	return nil
}
