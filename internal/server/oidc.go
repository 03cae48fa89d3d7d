package server

import (
	"context"
	"fmt"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/login"
	"github.com/qortal-oidc/qortal-oidc/internal/oidcprovider"
)

// oidcPaths are the OpenID Provider's endpoints, mounted one by one (not as
// a catch-all) so unknown paths still get the broker's 404 and metrics keep
// a bounded route label.
var oidcPaths = []string{
	"/.well-known/openid-configuration",
	"/authorize", "/authorize/callback",
	"/token", "/userinfo", "/jwks", "/revoke", "/introspect",
	"/end_session", "/end_session/done",
}

// mountOIDC mounts the OpenID Provider and the Qortal login page.
func (s *Server) mountOIDC(ctx context.Context, r *mux.Router) error {
	p, err := oidcprovider.New(ctx, s.cfg, oidcprovider.Deps{Store: s.store, Logger: s.log})
	if err != nil {
		return fmt.Errorf("openid provider: %w", err)
	}
	lh, err := login.New(s.cfg, login.Deps{Store: s.store, Provider: p, Logger: s.log, Admission: s.admin.policy})
	if err != nil {
		return fmt.Errorf("login page: %w", err)
	}
	lh.Register(r)
	for _, path := range oidcPaths {
		r.Handle(path, p.Handler())
	}
	s.oidc = p
	s.jobs = append(s.jobs, p.Run)
	return nil
}
