// Package login serves the Qortal login page and its JSON API: the browser
// asks for a challenge bound to an OIDC auth request, signs it with the
// user's Qortal key (in the page, in Qortal Hub, or elsewhere), and the
// broker verifies the signature, consumes the challenge once, resolves the
// address to a linked Nextcloud account and completes the auth request.
package login

import (
	"cmp"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/oidcprovider"
	"github.com/qortal-oidc/qortal-oidc/internal/ratelimit"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/web"
)

// Provider is the part of the OpenID Provider the login flow drives.
type Provider interface {
	// AuthRequest returns store.ErrNotFound when id is unknown or expired.
	AuthRequest(ctx context.Context, id string) (oidcprovider.AuthRequestInfo, error)
	// CompleteLogin writes rec (the challenge to record used, audit) in
	// the completion's transaction.
	CompleteLogin(ctx context.Context, authRequestID string, m store.Mapping, authTime time.Time, rec ...oidcprovider.LoginRecord) (redirectTo string, err error)
	// DenyLogin ends the auth request with access_denied to the relying party.
	DenyLogin(ctx context.Context, authRequestID, description string) (redirectTo string, err error)

	// Single sign-on (the broker session; see oidcprovider/sso.go).

	// SignedIn returns the browser's live broker session, if any.
	SignedIn(r *http.Request) (store.BrokerSession, bool)
	// SessionSatisfies: the session may stand in for a signature here
	// (prompt=login and max_age say no).
	SessionSatisfies(ar oidcprovider.AuthRequestInfo, bs store.BrokerSession) bool
	// CompleteBrowserLogin is CompleteLogin that also opens the broker
	// session and sets its cookie.
	CompleteBrowserLogin(w http.ResponseWriter, r *http.Request, authRequestID string, m store.Mapping, authTime time.Time, rec ...oidcprovider.LoginRecord) (redirectTo string, err error)
	// CompleteLoginFromSession completes the request without a signature.
	CompleteLoginFromSession(ctx context.Context, authRequestID string, m store.Mapping, bs store.BrokerSession, rec ...oidcprovider.LoginRecord) (redirectTo string, err error)
	// FailSilentLogin ends a prompt=none request with login_required.
	FailSilentLogin(ctx context.Context, authRequestID, description string) (redirectTo string, err error)
	// OpenBrokerSession opens the broker session for a signature that
	// completes no login (onboarding) and sets its cookie.
	OpenBrokerSession(w http.ResponseWriter, r *http.Request, address string, authTime time.Time) error
}

// Deps are the handler's collaborators.
type Deps struct {
	Store    store.Store
	Provider Provider
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// IPLimiter and AddressLimiter default to in-memory limiters built from
	// cfg.Login.RateLimit (per replica: see package ratelimit).
	IPLimiter      ratelimit.Limiter
	AddressLimiter ratelimit.Limiter
	// Admission applies the login policy (policy.Service). Nil keeps the
	// strict rule: only linked mappings log in, and /onboard is not served.
	Admission Admission
	// SelfServiceClient is the client id of the broker's own /account page.
	// Its logins only open the broker session, so any address that proves
	// its key gets in (to see that it is not linked and what to do), except
	// a blocked one; relying parties still apply the policy on every login.
	SelfServiceClient string
	// Metrics counts logins and refused proofs (metrics.Metrics); nil: not counted.
	Metrics Observer
}

// Observer counts login outcomes.
type Observer interface {
	Login(outcome, client string)
	ProofRefused(reason string)
}

type noObserver struct{}

func (noObserver) Login(string, string) {}
func (noObserver) ProofRefused(string)  {}

// Handler serves the login pages, API and static assets.
type Handler struct {
	issuer     string
	basePath   string // the issuer's path, so links work behind a path prefix
	ttl        time.Duration
	trustProxy bool

	store    store.Store
	provider Provider
	log      *slog.Logger
	now      func() time.Time
	ipLim    ratelimit.Limiter
	addrLim  ratelimit.Limiter

	admission    Admission
	selfService  string
	nextcloudURL string // where /onboard sends the user once linked (nextcloud.login_url, else nextcloud.url)

	sealKey []byte // MACs sealed login challenges (sealed.go)

	pages      *template.Template
	loginPages *loginPageCache // pagecache.go
	assets     *web.Assets
	metrics    Observer
}

// New builds the handler.
func New(cfg config.Config, deps Deps) (*Handler, error) {
	if deps.Store == nil || deps.Provider == nil {
		return nil, errors.New("login: Store and Provider are required")
	}
	iss, err := url.Parse(cfg.Issuer)
	if err != nil || iss.Scheme == "" || iss.Host == "" {
		return nil, fmt.Errorf("login: issuer %q is not an absolute URL", cfg.Issuer)
	}
	h := &Handler{
		issuer:     cfg.Issuer,
		basePath:   strings.TrimSuffix(iss.Path, "/"),
		ttl:        cfg.Login.ChallengeTTL,
		trustProxy: cfg.Login.TrustProxyHeaders,
		store:      deps.Store,
		provider:   deps.Provider,
		log:        deps.Logger,
		now:        deps.Now,
		ipLim:      deps.IPLimiter,
		addrLim:    deps.AddressLimiter,

		metrics:      deps.Metrics,
		admission:    deps.Admission,
		selfService:  deps.SelfServiceClient,
		nextcloudURL: cmp.Or(cfg.Nextcloud.LoginURL, cfg.Nextcloud.URL),
	}
	if h.ttl <= 0 {
		h.ttl = 5 * time.Minute
	}
	if len(cfg.OIDC.KeyEncryptionKey) > 0 {
		if h.sealKey, err = hkdf.Key(sha256.New, cfg.OIDC.KeyEncryptionKey, nil, "qortal-oidc login challenge v1", 32); err != nil {
			return nil, fmt.Errorf("login: derive challenge key: %w", err)
		}
	} else {
		h.sealKey = newSealKey()
	}
	if h.metrics == nil {
		h.metrics = noObserver{}
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.ipLim == nil {
		h.ipLim = ratelimit.New(ratelimit.Config{PerMinute: cfg.Login.RateLimit.PerIPPerMinute, Now: h.now})
	}
	if h.addrLim == nil {
		h.addrLim = ratelimit.New(ratelimit.Config{PerMinute: cfg.Login.RateLimit.PerAddressPerMinute, Now: h.now})
	}
	if h.assets, err = web.LoadAssets(); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	h.loginPages = newLoginPageCache()
	if h.pages, err = loadPages(h.assetURL); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return h, nil
}

// Register mounts the routes under the issuer's path.
func (h *Handler) Register(r *mux.Router) {
	b := h.basePath
	r.HandleFunc(b+"/login", h.loginPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(b+"/login/challenge", h.challenge).Methods(http.MethodPost)
	r.HandleFunc(b+"/login/verify", h.verify).Methods(http.MethodPost)
	r.HandleFunc(b+"/login/hub-transaction", h.hubTransaction).Methods(http.MethodPost)
	r.HandleFunc(b+"/login/denied", h.deniedPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(b+"/login/denied", h.deny).Methods(http.MethodPost)
	r.HandleFunc(b+"/static/{name}", h.static).Methods(http.MethodGet, http.MethodHead)
	if h.admission != nil {
		h.registerOnboard(r)
	}
}

// path returns an absolute path under the issuer's path.
func (h *Handler) path(p string) string { return h.basePath + p }

func (h *Handler) deniedURL(authRequestID, reason string) string {
	q := url.Values{"authRequestID": {authRequestID}, "reason": {reason}}
	return h.path("/login/denied") + "?" + q.Encode()
}

// authRequest fetches an auth request that can still be completed.
func (h *Handler) authRequest(ctx context.Context, id string) (oidcprovider.AuthRequestInfo, *apiError) {
	if id == "" || len(id) > maxAuthRequestIDLen {
		return oidcprovider.AuthRequestInfo{}, errInvalid("authRequestId is missing or malformed").onPage(
			"This sign-in link is incomplete",
			"The link that opened this page does not say which app you are signing in to, so the sign-in cannot continue.",
			"Go back to the app (for example Nextcloud) and choose to sign in with Qortal again. If you copied the link, check that you copied all of it.")
	}
	ar, err := h.provider.AuthRequest(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ar, errSignInExpired("this login request is unknown or has expired: go back to the app and sign in again")
	case err != nil:
		return ar, h.internal(ctx, "load auth request", err)
	case ar.Done:
		return ar, errAuthRequestGone("this login request was already completed: go back to the app and sign in again").onPage(
			"This sign-in is already finished",
			"This sign-in link was already used: each one works only once.",
			"Go back to the app: you may already be signed in there. If not, start signing in again from the app.")
	case !ar.ExpiresAt.IsZero() && !h.now().Before(ar.ExpiresAt):
		return ar, errSignInExpired("this login request has expired: go back to the app and sign in again")
	}
	return ar, nil
}

// audit records a login event; a failure is logged, not fatal, because the
// login itself already happened (or was refused) in the provider.
func (h *Handler) audit(ctx context.Context, action, address, detail string) {
	err := h.store.AppendAudit(ctx, store.AuditEntry{
		At: h.now(), Actor: "wallet:" + address, Action: action, Subject: address, Detail: detail,
	})
	if err != nil {
		h.log.WarnContext(ctx, "login audit failed", "action", action, "err", err)
	}
}
