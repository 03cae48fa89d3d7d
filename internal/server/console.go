package server

import (
	"fmt"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/console"
)

// mountConsole mounts the /admin web console on the same services as the
// admin API (mountAdmin must have run).
func (s *Server) mountConsole(r *mux.Router) error {
	d := console.Deps{
		Store: s.store, Provision: s.provision, Policy: s.admin.policy,
		Invites: s.admin.invites, Onboarding: s.admin.onboarding, Logger: s.log,
		IPLimiter:      s.limiter(limitConsoleIP, s.cfg.Login.RateLimit.PerIPPerMinute, time.Minute, s.cfg.Login.RateLimit.PerIPPerMinute),
		AddressLimiter: s.limiter(limitConsoleAddr, s.cfg.Login.RateLimit.PerAddressPerMinute, time.Minute, s.cfg.Login.RateLimit.PerAddressPerMinute),
	}
	if s.nextcloud != nil {
		d.Nextcloud = s.nextcloud // a plain nil interface otherwise
	}
	if s.catalog != nil {
		d.QApps, d.QAppsOrigin = s.catalog, s.cfg.QApps.Origin
	}
	h, err := console.New(s.cfg, d)
	if err != nil {
		return fmt.Errorf("admin console: %w", err)
	}
	h.Register(r)
	s.console = h
	s.jobs = append(s.jobs, h.Sweep)
	if len(s.cfg.Admin.Addresses) == 0 {
		s.log.Warn("no admin.addresses configured: nobody can sign in to the /admin console")
	}
	return nil
}
