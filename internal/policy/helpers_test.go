package policy

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/invite"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/provision"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/pgtest"
	"github.com/qortal-oidc/qortal-oidc/internal/store/postgres"
	"github.com/qortal-oidc/qortal-oidc/internal/store/sqlite"
)

// backends opens a fresh store of each kind; admission tests run on both.
var backends = map[string]func(t testing.TB) store.Store{
	"sqlite": func(t testing.TB) store.Store {
		s, err := sqlite.Open(context.Background(), t.TempDir(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	},
	"postgres": func(t testing.TB) store.Store {
		s, err := postgres.Open(context.Background(), pgtest.URL(t), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	},
}

func eachBackend(t *testing.T, f func(t *testing.T, open func(testing.TB) store.Store)) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) { f(t, open) })
	}
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	st      store.Store
	fake    *ocsfake.Server
	svc     *Service
	invites *invite.Service
	clock   *clock
}

const admin = "admin:test"

func newEnv(t *testing.T, open func(testing.TB) store.Store, mode, guard string) *env {
	t.Helper()
	fake := ocsfake.New()
	t.Cleanup(fake.Close)
	fake.AddAccount("broker", "broker-app-password", true)
	nc, err := nextcloud.New(nextcloud.Config{BaseURL: fake.URL(), User: "broker", AppPassword: "broker-app-password",
		APIVersion: 2, Timeout: 5 * time.Second, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Policy.Mode, cfg.Policy.Guard = mode, guard
	st := open(t)
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
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
