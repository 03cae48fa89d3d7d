// Package policy decides who may log in: the login policy (link_only or
// auto_provision with a guard), the allowlist, and admission itself, which
// creates or links the account through the provisioning service and
// consumes invites.
package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/invite"
	"github.com/qortal-oidc/qortal-oidc/internal/provision"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Modes and guards.
const (
	ModeLinkOnly      = "link_only"
	ModeAutoProvision = "auto_provision"
	// ModeStandalone: no Nextcloud; any address that proves its key signs
	// in, with sub = the address.
	ModeStandalone = "standalone"

	GuardNone              = "none"
	GuardAllowlist         = "allowlist"
	GuardInvite            = "invite"
	GuardInviteOrAllowlist = "invite_or_allowlist"
)

// Provisioner is the part of provision.Service admission uses, so
// auto-provisioned accounts get exactly the same guarantees as the API's.
type Provisioner interface {
	Upsert(ctx context.Context, actor string, req provision.Request) (provision.Result, error)
	Link(ctx context.Context, actor, address, uid string) (store.Mapping, error)
}

// Service holds the policy, the allowlist and admission.
type Service struct {
	store   store.Store
	prov    Provisioner
	invites *invite.Service
	cfg     config.Policy
	// nextcloud: a Nextcloud is configured, so standalone is refused.
	nextcloud bool
	log       *slog.Logger
	now       func() time.Time
}

// Deps are the Service's collaborators.
type Deps struct {
	Store       store.Store
	Provisioner Provisioner
	Invites     *invite.Service
	Logger      *slog.Logger
	Now         func() time.Time
}

// New builds a Service.
func New(cfg config.Config, d Deps) *Service {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	pol := cfg.Policy
	pol.Mode = cfg.PolicyMode()
	return &Service{store: d.Store, prov: d.Provisioner, invites: d.Invites, cfg: pol, nextcloud: cfg.Nextcloud.URL != "", log: d.Logger, now: d.Now}
}

// Effective is the policy in force and where it comes from.
type Effective struct {
	Mode      string
	Guard     string
	Source    string // "config" or "override"
	UpdatedBy string
	UpdatedAt time.Time
}

// Current returns the policy in force: the admin override when set,
// otherwise the configuration.
func (s *Service) Current(ctx context.Context) (Effective, error) {
	p, err := s.store.GetLoginPolicy(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return Effective{Mode: s.cfg.Mode, Guard: s.cfg.Guard, Source: "config"}, nil
	}
	if err != nil {
		return Effective{}, storeErr(err)
	}
	return Effective{Mode: p.Mode, Guard: p.Guard, Source: "override", UpdatedBy: p.UpdatedBy, UpdatedAt: p.UpdatedAt}, nil
}

// Set stores an override (audited).
func (s *Service) Set(ctx context.Context, actor, mode, guard string) (Effective, error) {
	if err := config.ValidPolicy(mode, guard); err != nil {
		return Effective{}, apierror.BadRequest("invalid_policy", "%v", err)
	}
	if mode == ModeStandalone && s.nextcloud {
		return Effective{}, apierror.BadRequest("invalid_policy", "standalone cannot be used while Nextcloud is configured: sign-ins would not be Nextcloud accounts")
	}
	before, err := s.Current(ctx)
	if err != nil {
		return Effective{}, err
	}
	detail := fmt.Sprintf(`{"mode":%q,"guard":%q,"previousMode":%q,"previousGuard":%q}`, mode, guard, before.Mode, before.Guard)
	p, err := s.store.SetLoginPolicy(ctx, store.LoginPolicy{Mode: mode, Guard: guard, UpdatedBy: actor},
		store.AuditEntry{Actor: actor, Action: "policy.set", Subject: "login_policy", Detail: detail})
	if err != nil {
		return Effective{}, storeErr(err)
	}
	s.log.InfoContext(ctx, "login policy changed", "mode", mode, "guard", guard, "actor", actor)
	return Effective{Mode: p.Mode, Guard: p.Guard, Source: "override", UpdatedBy: p.UpdatedBy, UpdatedAt: p.UpdatedAt}, nil
}

// Reset drops the override so the configuration applies again (audited).
func (s *Service) Reset(ctx context.Context, actor string) (Effective, error) {
	err := s.store.ClearLoginPolicy(ctx, store.AuditEntry{Actor: actor, Action: "policy.clear", Subject: "login_policy"})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Effective{}, storeErr(err)
	}
	return s.Current(ctx)
}

func storeErr(err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return apierror.Unavailable(err)
	}
	return fmt.Errorf("store: %w", err)
}
