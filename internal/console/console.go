// Package console is the admin web console at /admin: server-rendered
// pages (html/template from web/templates/admin) over plain forms with
// POST/redirect/GET, so it works without JavaScript. Admins sign in by
// signing a one-time challenge with a Qortal key listed in admin.addresses;
// sessions live in the store (revocable, shared by replicas). Every change
// goes through the same services as the JSON API, audited with the actor
// "admin:<address>".
package console

import (
	"context"
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
	"github.com/qortal-oidc/qortal-oidc/internal/invite"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud"
	"github.com/qortal-oidc/qortal-oidc/internal/onboarding"
	"github.com/qortal-oidc/qortal-oidc/internal/policy"
	"github.com/qortal-oidc/qortal-oidc/internal/provision"
	"github.com/qortal-oidc/qortal-oidc/internal/qapps"
	"github.com/qortal-oidc/qortal-oidc/internal/ratelimit"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/web"
)

// pageSize is how many rows a console table shows at once.
const pageSize = 50

// DefaultIdleTimeout ends a session nobody has used for this long.
const DefaultIdleTimeout = 30 * time.Minute

// Prober is the part of the Nextcloud client the dashboard uses.
type Prober interface {
	Probe(ctx context.Context) (nextcloud.User, error)
}

// Deps are the console's collaborators. The services are the ones the JSON
// API uses, so the console can do nothing the API could not.
type Deps struct {
	Store      store.Store
	Provision  *provision.Service
	Policy     *policy.Service
	Invites    *invite.Service
	Onboarding *onboarding.Service
	// QApps is the Q-Apps catalog; nil when the gateway is off.
	QApps *qapps.Catalog
	// QAppsOrigin is the gateway's origin, for launch URLs.
	QAppsOrigin string
	// Nextcloud is probed by the dashboard; nil when not configured.
	Nextcloud Prober
	// HTTPClient reaches the Qortal node for the dashboard; nil means a
	// client with a short timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// IdleTimeout defaults to DefaultIdleTimeout.
	IdleTimeout time.Duration
	// IPLimiter and AddressLimiter bound sign-in attempts; they default to
	// limiters built from cfg.Login.RateLimit.
	IPLimiter      ratelimit.Limiter
	AddressLimiter ratelimit.Limiter
}

// Handler serves the console.
type Handler struct {
	d          Deps
	issuer     string
	origin     string // scheme://host of the issuer: what Origin must say
	base       string // issuer path + "/admin"
	secure     bool   // cookies get Secure when the issuer is https
	admins     map[string]bool
	sessionTTL time.Duration
	idle       time.Duration
	challenge  time.Duration
	trustProxy bool
	qortalNode string
	nextcloud  string // Nextcloud base URL, for a link on the dashboard
	inviteTTL  time.Duration
	// disableBlocked: blocking also disables the Nextcloud account
	// (provision.disable_blocked_users), which the confirmation says.
	disableBlocked bool
	pageSize       int
	log            *slog.Logger
	now            func() time.Time
	pages          *template.Template
	assets         *web.Assets
}

// New builds the console.
func New(cfg config.Config, d Deps) (*Handler, error) {
	if d.Store == nil || d.Provision == nil || d.Policy == nil || d.Invites == nil || d.Onboarding == nil {
		return nil, errors.New("console: Store, Provision, Policy, Invites and Onboarding are required")
	}
	iss, err := url.Parse(cfg.Issuer)
	if err != nil || iss.Scheme == "" || iss.Host == "" {
		return nil, fmt.Errorf("console: issuer %q is not an absolute URL", cfg.Issuer)
	}
	h := &Handler{
		d:          d,
		issuer:     cfg.Issuer,
		origin:     iss.Scheme + "://" + iss.Host,
		base:       strings.TrimSuffix(iss.Path, "/") + "/admin",
		secure:     iss.Scheme == "https",
		admins:     map[string]bool{},
		sessionTTL: cfg.Admin.SessionTTL,
		idle:       d.IdleTimeout,
		challenge:  cfg.Login.ChallengeTTL,
		trustProxy: cfg.Login.TrustProxyHeaders,
		qortalNode: strings.TrimSuffix(cfg.Qortal.NodeURL, "/"),
		nextcloud:  cfg.Nextcloud.URL,
		inviteTTL:  cfg.Policy.InviteTTL,

		disableBlocked: cfg.Provision.DisableBlockedUsers,
		pageSize:       pageSize,
		log:            d.Logger,
		now:            d.Now,
	}
	for _, a := range cfg.Admin.Addresses {
		h.admins[strings.TrimSpace(a)] = true
	}
	if h.sessionTTL <= 0 {
		h.sessionTTL = 8 * time.Hour
	}
	if h.idle <= 0 {
		h.idle = DefaultIdleTimeout
	}
	if h.challenge <= 0 {
		h.challenge = 5 * time.Minute
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.d.HTTPClient == nil {
		h.d.HTTPClient = &http.Client{Timeout: 3 * time.Second}
	}
	if h.d.IPLimiter == nil {
		h.d.IPLimiter = ratelimit.New(ratelimit.Config{PerMinute: cfg.Login.RateLimit.PerIPPerMinute, Now: h.now})
	}
	if h.d.AddressLimiter == nil {
		h.d.AddressLimiter = ratelimit.New(ratelimit.Config{PerMinute: cfg.Login.RateLimit.PerAddressPerMinute, Now: h.now})
	}
	if h.assets, err = web.LoadAssets(consoleAssets...); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	if h.pages, err = loadPages(h.funcs()); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return h, nil
}

// Register mounts the console under the issuer's path.
func (h *Handler) Register(r *mux.Router) {
	b := h.base
	get := func(p string, f http.HandlerFunc) { r.HandleFunc(b+p, f).Methods(http.MethodGet, http.MethodHead) }
	post := func(p string, f http.HandlerFunc) { r.HandleFunc(b+p, f).Methods(http.MethodPost) }

	get("/static/{name}", h.static)
	get("/signin", h.signinPage)
	post("/signin", h.signinStart)
	post("/signin/verify", h.signinVerify)
	post("/signout", h.signout)

	get("", h.admin(h.dashboard))
	get("/", h.admin(h.dashboard))
	get("/mappings", h.admin(h.mappings))
	post("/mappings/link", h.admin(h.mappingLink))
	post("/mappings/unlink", h.admin(h.mappingUnlink))
	post("/mappings/status", h.admin(h.mappingStatus))
	get("/invites", h.admin(h.invites))
	post("/invites", h.admin(h.inviteCreate))
	post("/invites/revoke", h.admin(h.inviteRevoke))
	get("/allowlist", h.admin(h.allowlist))
	post("/allowlist", h.admin(h.allowlistAdd))
	post("/allowlist/remove", h.admin(h.allowlistRemove))
	get("/campaigns", h.admin(h.campaigns))
	post("/campaigns", h.admin(h.campaignStart))
	get("/campaigns/{id}", h.admin(h.campaign))
	post("/campaigns/{id}/resend", h.admin(h.campaignResend))
	get("/policy", h.admin(h.policyPage))
	post("/policy", h.admin(h.policySet))
	post("/policy/reset", h.admin(h.policyReset))
	get("/audit", h.admin(h.audit))
	get("/qapps", h.admin(h.qappsPage))
	post("/qapps", h.admin(h.qappApprove))
	post("/qapps/{id}", h.admin(h.qappEdit))
	post("/qapps/{id}/pin", h.admin(h.qappPin))
	post("/qapps/{id}/delete", h.admin(h.qappDelete))
}

// Owns reports whether path is under the console, for the router's 404:
// an unknown console page gets NotFound, the rest of the broker JSON.
func (h *Handler) Owns(path string) bool {
	return path == h.base || strings.HasPrefix(path, h.base+"/")
}

// NotFound is the HTML 404 in the console's look.
func (h *Handler) NotFound(w http.ResponseWriter, r *http.Request) {
	v := h.view("Page not found", "")
	v.Error = "There is no console page at " + r.URL.Path + "."
	h.render(w, r, http.StatusNotFound, "error.html", v)
}

// path is an absolute path under /admin.
func (h *Handler) path(p string) string { return h.base + p }

// isAdmin reports whether address may use the console (checked at sign-in
// and on every request, so removing an address from the config and
// restarting ends its sessions).
func (h *Handler) isAdmin(address string) bool { return h.admins[address] }

// Sweep deletes ended and idle sessions every interval until ctx ends.
func (h *Handler) Sweep(ctx context.Context) error {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			now := h.now()
			if n, err := h.d.Store.DeleteExpiredConsoleSessions(ctx, now, now.Add(-h.idle)); err != nil {
				h.log.WarnContext(ctx, "console session cleanup failed", "err", err)
			} else if n > 0 {
				h.log.DebugContext(ctx, "console session cleanup", "deleted", n)
			}
		}
	}
}
