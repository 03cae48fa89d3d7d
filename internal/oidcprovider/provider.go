// Package oidcprovider is the OpenID Provider Nextcloud's user_oidc logs
// users in through ("Sign in with Qortal"). It is built on zitadel's op
// package; every piece of state lives in the project store, so any number
// of replicas can serve one issuer from one database.
package oidcprovider

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Deps are the provider's collaborators.
type Deps struct {
	Store      store.Store
	Logger     *slog.Logger
	Now        func() time.Time // nil: time.Now
	HTTPClient *http.Client     // back-channel logout and Qortal node; nil: a client with timeouts
}

// Provider serves the OIDC endpoints and the API the login page uses.
type Provider struct {
	cfg    config.Config
	issuer string
	store  store.Store
	logger *slog.Logger
	now    func() time.Time
	http   *http.Client
	keys   *KeyManager
	names  *nameResolver
	op     *op.Provider
	// authz is op for the authorization endpoint, adding iss (RFC 9207).
	authz   issAuthorizer
	storage *storage
	// jwtAccessTokens: issue RFC 9068 JWT access tokens, not opaque ones.
	jwtAccessTokens bool
	// opTokenEndpoint sends every token request to op (tests compare
	// codeGrant's answers with op's).
	opTokenEndpoint atomic.Bool
	codeGrants      atomic.Int64 // exchanges codeGrant answered (tests check it is the one answering)
	loginPage       http.Handler // the login page, served in /authorize's answer (SetLoginPage)
	handler         http.Handler
	// callbackKey MACs the callback URL CompleteLogin hands to the verifier
	// (see callback.go); all replicas derive the same one.
	callbackKey    []byte
	crypto         codeCrypto       // op's Crypto, with codes derived from auth request ids
	clients        *clientCache     // clients read in the last clientCacheTTL
	pending        *pendingRequests // pending auth requests this replica created or read
	requestSeal    sealer           // seals pending auth requests into their ids (sealedrequest.go)
	completedCodes *requestCache    // requests this replica completed, by code hash, until exchanged (pending.go)
	bg             sync.WaitGroup   // back-channel deliveries in flight
	ttl            struct{ access, id, refresh, authRequest time.Duration }
}

// Defaults for durations left zero in the configuration.
const (
	defaultAccessTTL      = 15 * time.Minute
	defaultIDTTL          = 15 * time.Minute
	defaultRefreshTTL     = 30 * 24 * time.Hour
	defaultAuthRequestTTL = 10 * time.Minute
	defaultPublishLead    = 2 * time.Hour
	cleanupInterval       = 5 * time.Minute
)

// noTraces: the broker exports no traces, and op starts a span on every
// request through otel's global tracer, which, with no provider set,
// allocates a span each time; a no-op tracer starts none.
var noTraces sync.Once

// New builds the provider: it syncs configured clients into the store and
// makes sure a signing key exists (creating one on the very first start).
func New(ctx context.Context, cfg config.Config, deps Deps) (*Provider, error) {
	noTraces.Do(func() { op.Tracer = tracenoop.NewTracerProvider().Tracer("") })
	if deps.Store == nil {
		return nil, errors.New("oidcprovider: store is required")
	}
	p := &Provider{cfg: cfg, store: deps.Store, logger: deps.Logger, now: deps.Now, http: deps.HTTPClient}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.http == nil {
		p.http = &http.Client{Timeout: 10 * time.Second}
	}
	p.issuer = strings.TrimSuffix(cfg.Issuer, "/")
	p.jwtAccessTokens = cfg.OIDC.AccessTokenFormat == config.AccessTokenJWT
	insecure, err := insecureIssuerAllowed(p.issuer, cfg.OIDC.AllowInsecureIssuer)
	if err != nil {
		return nil, err
	}
	p.ttl.access = orDefault(cfg.OIDC.AccessTokenTTL, defaultAccessTTL)
	p.ttl.id = orDefault(cfg.OIDC.IDTokenTTL, defaultIDTTL)
	p.ttl.refresh = orDefault(cfg.OIDC.RefreshTokenTTL, defaultRefreshTTL)
	p.ttl.authRequest = orDefault(cfg.OIDC.AuthRequestTTL, defaultAuthRequestTTL)
	alg := cfg.OIDC.SigningAlg
	if alg == "" {
		alg = "RS256"
	}
	retention := max(p.ttl.id, p.ttl.access) + retireMargin
	p.keys, err = newKeyManager(p.store, cfg.OIDC.KeyEncryptionKey, alg, orDefault(cfg.OIDC.KeyPublishLead, defaultPublishLead),
		cfg.OIDC.KeyRotationPeriod, retention, p.now, p.logger) // NewKeyManager for the CLI uses the same rules
	if err != nil {
		return nil, fmt.Errorf("oidc keys: %w", err)
	}
	if cfg.Qortal.NodeURL != "" {
		p.names = newNameResolver(cfg.Qortal.NodeURL, p.http, cfg.Qortal.NameCacheTTL, p.now, p.logger)
	}
	if err := syncConfigClients(ctx, p.store, cfg.OIDC.Clients, p.now()); err != nil {
		return nil, err
	}
	if err := p.keys.Ensure(ctx); err != nil {
		return nil, err
	}

	// Opaque access tokens are sealed with a key all replicas derive from
	// the key encryption key (tokenSeal); the key op's own crypto used for
	// them before still opens the tokens it issued.
	tokenKey, err := hkdf.Key(sha256.New, cfg.OIDC.KeyEncryptionKey, nil, "qortal-oidc op token encryption v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive token key: %w", err)
	}
	var cryptoKey [32]byte
	copy(cryptoKey[:], tokenKey)
	gcm := op.NewAES256GCMCrypto(cryptoKey, "")
	sealKey, err := hkdf.Key(sha256.New, cfg.OIDC.KeyEncryptionKey, nil, "qortal-oidc access token seal v2", 32)
	if err != nil {
		return nil, fmt.Errorf("derive token key: %w", err)
	}
	seal, err := newTokenSeal(sealKey, op.NewCompositeCrypto(gcm, []op.Decrypter{gcm, op.NewAESCrypto(cryptoKey)}))
	if err != nil {
		return nil, err
	}
	tokenCrypto := accessTokenCrypto{seal}
	opCfg := &op.Config{
		CodeMethodS256:                    true,
		AuthMethodPost:                    true,
		GrantTypeRefreshToken:             true,
		DefaultLogoutRedirectURI:          p.issuer + loggedOutPath,
		SupportedClaims:                   supportedClaims,
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
	}
	if p.callbackKey, err = hkdf.Key(sha256.New, cfg.OIDC.KeyEncryptionKey, nil, "qortal-oidc callback binding v1", 32); err != nil {
		return nil, fmt.Errorf("derive callback key: %w", err)
	}
	reqSealKey, err := hkdf.Key(sha256.New, cfg.OIDC.KeyEncryptionKey, nil, "qortal-oidc auth request seal v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive auth request key: %w", err)
	}
	if p.requestSeal, err = newRequestSealer(reqSealKey, p.issuer); err != nil {
		return nil, fmt.Errorf("auth request seal: %w", err)
	}
	codeKey, err := hkdf.Key(sha256.New, cfg.OIDC.KeyEncryptionKey, nil, "qortal-oidc authorization code v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive code key: %w", err)
	}
	p.crypto = codeCrypto{Crypto: tokenCrypto, key: codeKey}
	p.clients = newClientCache(p.now)
	p.pending = newPendingRequests()
	p.completedCodes = newRequestCache()
	p.storage = &storage{p: p}
	opts := []op.Option{
		op.WithCrypto(p.crypto),
		op.WithCustomAuthEndpoint(op.NewEndpoint("/authorize")),
		op.WithCustomTokenEndpoint(op.NewEndpoint("/token")),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint("/introspect")),
		op.WithCustomUserinfoEndpoint(op.NewEndpoint("/userinfo")),
		op.WithCustomRevocationEndpoint(op.NewEndpoint("/revoke")),
		op.WithCustomEndSessionEndpoint(op.NewEndpoint("/end_session")),
		op.WithCustomKeysEndpoint(op.NewEndpoint("/jwks")),
		// op's CORS reflects every origin with credentials; cors.go
		// replaces it per endpoint.
		op.WithCORSOptions(nil),
		op.WithAccessTokenVerifierOpts(op.WithSupportedAccessTokenSigningAlgorithms("RS256", "ES256", "EdDSA")),
	}
	if insecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	p.op, err = op.NewProvider(opCfg, p.storage, op.StaticIssuer(p.issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc provider: %w", err)
	}
	p.authz = issAuthorizer{Provider: p.op, enc: issEncoder{next: p.op.Encoder(), iss: p.issuer}}
	origins := cfg.OIDC.CORSAllowedOrigins
	mux := http.NewServeMux()
	discovery := publicCORS(http.HandlerFunc(p.discoveryHandler))
	mux.Handle("GET "+oidc.DiscoveryEndpoint, discovery)
	mux.Handle("OPTIONS "+oidc.DiscoveryEndpoint, discovery)
	mux.Handle("/jwks", publicCORS(p.op))
	mux.HandleFunc("GET "+loggedOutPath, loggedOutHandler)
	mux.Handle("/end_session", p.endSessionHandler(p.op))
	mux.Handle("/token", withScope(allowlistCORS(origins, "POST")(p.clientAuthEndpoint(p.codeGrant(p.rawBasicAuth(p.op))))))
	for _, path := range []string{"/revoke", "/introspect"} {
		mux.Handle(path, withScope(p.clientAuthEndpoint(p.rawBasicAuth(p.op))))
	}
	mux.Handle("/userinfo", allowlistCORS(origins, "GET, POST")(p.userinfoEndpoint(p.op)))
	mux.HandleFunc("/authorize", p.authorizeEndpoint)
	mux.Handle("/authorize/callback", p.boundCallback(http.HandlerFunc(p.authorizeCallback)))
	mux.HandleFunc("GET "+formPostPath, p.formPostHandler)
	p.handler = mux
	return p, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// insecureIssuerAllowed validates the issuer and reports whether op must be
// told to accept plain http: only for loopback hosts or when configured.
func insecureIssuerAllowed(issuer string, allow bool) (bool, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return false, fmt.Errorf("issuer %q must be an absolute URL without query or fragment", issuer)
	}
	switch u.Scheme {
	case "https":
		return false, nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) || allow {
			return true, nil
		}
		return false, fmt.Errorf("issuer %q uses http: only loopback hosts may, unless oidc.allow_insecure_issuer is set", issuer)
	}
	return false, fmt.Errorf("issuer %q must use https", issuer)
}

// Handler serves every OIDC endpoint: /.well-known/openid-configuration,
// /authorize (+/authorize/callback, /authorize/form_post), /token, /userinfo, /jwks, /revoke,
// /introspect, /end_session (+/end_session/done). Mount it at "/".
func (p *Provider) Handler() http.Handler { return p.handler }

// Keys gives the CLI access to key listing and rotation.
func (p *Provider) Keys() *KeyManager { return p.keys }

// Issuer is the normalised issuer URL.
func (p *Provider) Issuer() string { return p.issuer }

// Run does the background work until ctx ends: scheduled key rotation,
// deleting retired keys and expired rows. Every step is safe to run on all
// replicas at once; the store decides.
func (p *Provider) Run(ctx context.Context) error {
	tick := time.NewTicker(cleanupInterval)
	defer tick.Stop()
	for {
		p.maintain(ctx)
		select {
		case <-ctx.Done():
			p.bg.Wait()
			return nil
		case <-tick.C:
		}
	}
}

func (p *Provider) maintain(ctx context.Context) {
	if _, err := p.keys.rotateIfDue(ctx); err != nil {
		p.logger.ErrorContext(ctx, "key rotation", "error", err)
	}
	if _, err := p.keys.Cleanup(ctx); err != nil {
		p.logger.ErrorContext(ctx, "key cleanup", "error", err)
	}
	if n, err := p.store.PurgeExpiredOIDC(ctx, p.now()); err != nil {
		p.logger.ErrorContext(ctx, "purge expired oidc rows", "error", err)
	} else if n > 0 {
		p.logger.DebugContext(ctx, "purged expired oidc rows", "rows", n)
	}
}

// AuthRequestInfo is what the login page shows about a pending login.
type AuthRequestInfo struct {
	ID          string
	ClientID    string
	ClientName  string
	RedirectURI string
	Scopes      []string
	ExpiresAt   time.Time
	Done        bool
	Prompt      []string
	MaxAge      *int64 // seconds; nil when the relying party sent none
}

// AuthRequest describes a pending login; store.ErrNotFound (wrapped) when
// the id is unknown or expired.
func (p *Provider) AuthRequest(ctx context.Context, id string) (AuthRequestInfo, error) {
	ar, err := p.pendingAuthRequest(ctx, id)
	if err != nil {
		return AuthRequestInfo{}, fmt.Errorf("auth request: %w", err)
	}
	info := AuthRequestInfo{ID: id, ClientID: ar.ClientID, RedirectURI: ar.RedirectURI, Scopes: ar.Scopes, ExpiresAt: ar.ExpiresAt, Done: ar.Done,
		Prompt: ar.Prompt, MaxAge: ar.MaxAge}
	if c, err := p.clients.get(ctx, p.store, ar.ClientID); err == nil {
		info.ClientName = c.Name
	}
	if info.ClientName == "" {
		info.ClientName = ar.ClientID
	}
	return info, nil
}

// CompleteLogin records that the holder of m.QortalAddress logged in as
// m.NextcloudUserID and returns the URL the browser must go to next: the
// relying party's redirect URI with the code (see codeResponseURL), or for
// response_mode=form_post op's callback, which serves the page that posts
// it. Errors:
// store.ErrNotFound (unknown/expired), store.ErrAuthRequestDone, or a
// refusal when the mapping is not usable.
//
// The code the callback will hand out is stored in the same transaction,
// with what rec adds (the challenge the proof used, audit entries): one
// durable write for the whole proof.
func (p *Provider) CompleteLogin(ctx context.Context, authRequestID string, m store.Mapping, authTime time.Time, rec ...LoginRecord) (string, error) {
	return p.completeLogin(ctx, authRequestID, m, authTime, rec, nil)
}

// completeLogin is CompleteLogin with a hook that adds the broker session
// part to the completion (see sso.go).
func (p *Provider) completeLogin(ctx context.Context, authRequestID string, m store.Mapping, authTime time.Time, rec []LoginRecord, withSession func(*store.AuthCompletion)) (string, error) {
	if m.NextcloudUserID == "" || m.QortalAddress == "" {
		return "", errors.New("complete login: mapping lacks user id or address")
	}
	if m.Status == store.StatusBlocked {
		return "", fmt.Errorf("complete login: %w", errNotLinked)
	}
	if authTime.IsZero() {
		authTime = p.now()
	}
	sid, err := randomID("")
	if err != nil {
		return "", err
	}
	now := p.now()
	// A sealed request is completed under its store key, and inserted
	// with the completion (it was never stored).
	key := requestKey(authRequestID)
	var sealed *store.AuthRequest
	if isSealedRequest(authRequestID) {
		ar, ok := p.openRequest(authRequestID)
		if !ok {
			return "", fmt.Errorf("complete login: not one of our auth requests: %w", store.ErrNotFound)
		}
		sealed = &ar
	}
	c := store.AuthCompletion{
		Subject: m.NextcloudUserID, QortalAddress: m.QortalAddress, AuthTime: authTime,
		// "hwk": proof of possession of a hardware- or software-held key.
		AMR: []string{"hwk"}, SessionID: sid, SessionExpiresAt: now.Add(max(p.ttl.refresh, p.ttl.id)),
		Code: &store.AuthCode{Hash: p.crypto.codeHash(key), AuthRequestID: key,
			CreatedAt: now, ExpiresAt: now.Add(codeTTL)},
		Request: sealed,
	}
	for _, r := range rec {
		if r.Challenge != nil {
			ch := *r.Challenge
			ch.AuthRequestID = key
			c.Challenge = &ch
		}
		c.Audit = append(c.Audit, r.Audit...)
	}
	if withSession != nil {
		withSession(&c)
	}
	ar, err := p.store.CompleteAuthRequest(ctx, key, c, now)
	if err == nil || errors.Is(err, store.ErrAuthRequestDone) || errors.Is(err, store.ErrNotFound) {
		p.pending.forget(authRequestID)
	}
	if err != nil {
		return "", fmt.Errorf("complete login: %w", err)
	}
	p.completedCodes.add(c.Code.Hash, ar, c.Code.ExpiresAt, now)
	return p.codeResponseURL(ar), nil
}

// LoginRecord is what a login adds to its completion's transaction.
type LoginRecord struct {
	// Challenge is the sealed login challenge the proof used: recorded
	// used, and the completion fails with store.ErrChallengeUsed or
	// store.ErrChallengeExpired when it cannot be.
	Challenge *store.Challenge
	Audit     []store.AuditEntry
}

// DenyLogin ends a pending login with access_denied and returns the relying
// party URL carrying the error (and state) the browser must go to.
func (p *Provider) DenyLogin(ctx context.Context, authRequestID, description string) (string, error) {
	to, err := p.endWithError(ctx, authRequestID, oidc.ErrAccessDenied().WithDescription("%s", description))
	if err != nil {
		return "", fmt.Errorf("deny login: %w", err)
	}
	return to, nil
}
