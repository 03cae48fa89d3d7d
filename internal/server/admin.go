package server

import (
	"fmt"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/httpapi"
	"github.com/qortal-oidc/qortal-oidc/internal/invite"
	"github.com/qortal-oidc/qortal-oidc/internal/mail"
	"github.com/qortal-oidc/qortal-oidc/internal/onboarding"
	"github.com/qortal-oidc/qortal-oidc/internal/policy"
)

// adminServices are the login policy, invites and onboarding.
type adminServices struct {
	invites    *invite.Service
	policy     *policy.Service
	onboarding *onboarding.Service
}

// mountAdmin builds the policy, invite and onboarding services, mounts
// their admin APIs and schedules the onboarding worker.
func (s *Server) mountAdmin(r *mux.Router, auth *httpapi.AdminAuth) error {
	cfg, log := s.cfg, s.log
	// Interfaces get a plain nil, never a typed nil pointer, when a part is
	// not configured: the services test for nil.
	var (
		users invite.UserLookup
		dir   onboarding.Directory
		mlr   onboarding.Mailer
	)
	if s.nextcloud != nil {
		users, dir = s.nextcloud, s.nextcloud
	}
	if cfg.SMTP.Host != "" {
		m, err := mail.New(mail.Config{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username,
			Password: cfg.SMTP.Password, From: cfg.SMTP.From, TLS: cfg.SMTP.TLS, Timeout: cfg.SMTP.Timeout})
		if err != nil {
			return fmt.Errorf("smtp: %w", err)
		}
		mlr = m
	}
	a := &s.admin
	a.invites = invite.New(cfg, invite.Deps{Store: s.store, Users: users, Logger: log})
	a.policy = policy.New(cfg, policy.Deps{Store: s.store, Provisioner: s.provision, Invites: a.invites, Logger: log})
	a.onboarding = onboarding.New(cfg, onboarding.Deps{Store: s.store, Directory: dir, Mailer: mlr, Invites: a.invites, Logger: log, Metrics: s.metrics})

	(&httpapi.PolicyAPI{Service: a.policy, Config: config.Policy{Mode: cfg.PolicyMode(), Guard: cfg.Policy.Guard, InviteTTL: cfg.Policy.InviteTTL}, Auth: auth}).Register(r)
	(&httpapi.AllowlistAPI{Service: a.policy, Auth: auth}).Register(r)
	(&httpapi.InviteAPI{Service: a.invites, Auth: auth}).Register(r)
	(&httpapi.OnboardingAPI{Service: a.onboarding, Auth: auth}).Register(r)
	(&httpapi.AuditAPI{Store: s.store, Auth: auth}).Register(r)
	pace := s.limiter(limitOnboarding, cfg.Onboarding.RatePerMinute, time.Minute, 1)
	s.jobs = append(s.jobs, a.onboarding.Worker(onboarding.WorkerOptions{Pace: pace}).Run)
	return nil
}
