package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/console"
	"github.com/qortal-oidc/qortal-oidc/internal/demo"
	"github.com/qortal-oidc/qortal-oidc/internal/home"
	"github.com/qortal-oidc/qortal-oidc/internal/login"
	"github.com/qortal-oidc/qortal-oidc/internal/oidcprovider"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode"
	"github.com/qortal-oidc/qortal-oidc/internal/ratelimit"
)

// oidcPaths are the OpenID Provider's endpoints, mounted one by one (not as
// a catch-all) so unknown paths still get the broker's 404 and metrics keep
// a bounded route label.
var oidcPaths = []string{
	"/.well-known/openid-configuration",
	"/authorize", "/authorize/callback", "/authorize/form_post",
	"/token", "/userinfo", "/jwks", "/revoke", "/introspect",
	"/end_session", "/end_session/done",
}

// oauthJSONPaths answer a store outage in the OAuth JSON error shape (503
// temporarily_unavailable); the rest of oidcPaths are browser-facing and get
// a redirect to the relying party or a 503 page (package outage).
var oauthJSONPaths = []string{"/.well-known/openid-configuration", "/token", "/userinfo", "/jwks", "/revoke", "/introspect"}

// browserFacing endpoints are hit by anonymous browsers and write to the
// store (auth requests, sessions), so they are rate limited per client IP.
// The token, userinfo, revocation and introspection endpoints are not: the
// relying party's server calls them for all its users from one address, and
// they authenticate the client or token first.
var browserFacing = map[string]bool{"/authorize": true, "/end_session": true}

// limitPerIP answers 429 with Retry-After once an IP exceeds perMinute.
func (s *Server) limitPerIP(perMinute int) func(http.Handler) http.Handler {
	lim := s.limiter(limitAuthorizeIP, perMinute, time.Minute, perMinute)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ok, retry := lim.Allow(r.Context(), ratelimit.ClientKey(r, s.cfg.Login.TrustProxyHeaders)); !ok {
				w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
				http.Error(w, "Too many sign-in attempts from your network. Wait a minute and try again.", http.StatusTooManyRequests)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// mountOIDC mounts the OpenID Provider and the Qortal login page.
func (s *Server) mountOIDC(ctx context.Context, r *mux.Router) error {
	pcfg := s.cfg
	// The /account page signs in through the broker like any application.
	ac, err := console.AccountClient(s.cfg)
	if err != nil {
		return err
	}
	pcfg.OIDC.Clients = append(slices.Clone(pcfg.OIDC.Clients), ac)
	if s.cfg.Demo.Enabled {
		// Registered like a configured client, so disabling the demo
		// removes it again at the next start.
		c, err := demo.Client(s.cfg)
		if err != nil {
			return err
		}
		pcfg.OIDC.Clients = append(slices.Clone(pcfg.OIDC.Clients), c)
	}
	p, err := oidcprovider.New(ctx, pcfg, oidcprovider.Deps{Store: s.store, Logger: s.log})
	if err != nil {
		return fmt.Errorf("openid provider: %w", err)
	}
	s.oidc = p
	lh, err := login.New(s.cfg, login.Deps{Store: s.store, Provider: p, Logger: s.log, Admission: s.admin.policy,
		SelfServiceClient: console.AccountClientID, Metrics: s.metrics,
		IPLimiter:      s.limiter(limitLoginIP, s.cfg.Login.RateLimit.PerIPPerMinute, time.Minute, s.cfg.Login.RateLimit.PerIPPerMinute),
		AddressLimiter: s.limiter(limitLoginAddress, s.cfg.Login.RateLimit.PerAddressPerMinute, time.Minute, s.cfg.Login.RateLimit.PerAddressPerMinute),
	})
	if err != nil {
		return fmt.Errorf("login page: %w", err)
	}
	lh.Register(r)
	p.SetLoginPage(lh.LoginPage())
	if s.cfg.Demo.Enabled {
		dh, err := demo.New(s.cfg, demo.Transport(func() http.Handler { return s.handler }), lh.AssetURL, s.log)
		if err != nil {
			return err
		}
		dh.Register(r)
	}
	if err := s.mountHome(r, lh.AssetURL); err != nil {
		return err
	}
	if err := s.mountAccount(r, p); err != nil {
		return err
	}
	browserLimit := s.limitPerIP(s.cfg.Login.RateLimit.AuthorizePerIPPerMinute)
	for _, path := range oidcPaths {
		h := p.Handler()
		if browserFacing[path] {
			h = browserLimit(h)
		}
		r.Handle(path, h)
	}
	s.jobs = append(s.jobs, p.Run)
	return nil
}

// mountHome serves the landing page at the issuer's root.
func (s *Server) mountHome(r *mux.Router, assetURL func(string) (string, error)) error {
	h, err := home.New(s.cfg, assetURL, s.log)
	if err != nil {
		return err
	}
	h.Register(r)
	return nil
}

// mountAccount serves the users' /account page on the console's handler.
func (s *Server) mountAccount(r *mux.Router, p *oidcprovider.Provider) error {
	d := console.AccountDeps{Sessions: p, Cookie: oidcprovider.SessionCookie}
	if s.cfg.Qortal.NodeURL != "" {
		node := s.node
		if node == nil {
			var err error
			if node, err = qortalnode.New(s.cfg.Qortal.NodeURL, "", &http.Client{Timeout: 5 * time.Second}); err != nil {
				return fmt.Errorf("qortal node: %w", err)
			}
		}
		d.Node = node
	}
	s.console.RegisterAccount(r, s.cfg, d)
	return nil
}
