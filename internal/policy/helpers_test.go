package policy

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/clocktest"
	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/invite"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/nctest"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/provision"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

type env struct {
	st      store.Store
	fake    *ocsfake.Server
	svc     *Service
	invites *invite.Service
	clock   *clocktest.Clock
}

const admin = "admin:test"

func newEnv(t *testing.T, st store.Store, mode, guard string) *env {
	t.Helper()
	fake, nc := nctest.Start(t, func(c *nextcloud.Config) { c.APIVersion, c.Timeout = 2, 5*time.Second })
	cfg := config.Default()
	cfg.Policy.Mode, cfg.Policy.Guard = mode, guard
	clk := clocktest.New(time.Now().UTC().Truncate(time.Second))
	prov := provision.New(cfg, provision.Deps{Store: st, Nextcloud: nc, Now: clk.Now})
	inv := invite.New(cfg, invite.Deps{Store: st, Users: nc, Now: clk.Now})
	svc := New(cfg, Deps{Store: st, Provisioner: prov, Invites: inv, Now: clk.Now})
	return &env{st: st, fake: fake, svc: svc, invites: inv, clock: clk}
}

// newAddress is a fresh, valid Qortal address.
func newAddress(t testing.TB) string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return qortal.AddressFromPublicKey(pub)
}

func (e *env) invite(t *testing.T, uid string) string {
	t.Helper()
	c, err := e.invites.Create(t.Context(), admin, invite.Request{NextcloudUserID: uid, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return c.Token
}

func (e *env) link(t *testing.T, address, uid string, status store.MappingStatus) {
	t.Helper()
	e.fake.AddUser(ocsfake.User{ID: uid})
	if _, err := e.st.CreateMapping(t.Context(), store.Mapping{QortalAddress: address, NextcloudUserID: uid, Status: status},
		store.AuditEntry{Actor: admin}); err != nil {
		t.Fatal(err)
	}
}

// wantDenial asserts err is exactly this denial.
func wantDenial(t *testing.T, err error, code, description string) {
	t.Helper()
	var d *Denial
	if !errors.As(err, &d) {
		t.Fatalf("want denial %s, got %v", code, err)
	}
	if d.Code != code || d.Description != description {
		t.Fatalf("denial = %s: %q\n want %s: %q", d.Code, d.Description, code, description)
	}
}
