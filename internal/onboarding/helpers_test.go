package onboarding

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/invite"
	"github.com/qortal-oidc/qortal-oidc/internal/mail"
	"github.com/qortal-oidc/qortal-oidc/internal/mail/smtptest"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/nctest"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// countingMailer wraps the real SMTP sender and runs after() once each
// delivery is accepted, so a test can stop a worker after N messages.
type countingMailer struct {
	inner Mailer
	mu    sync.Mutex
	n     int
	after func(n int)
}

func (c *countingMailer) Send(ctx context.Context, m mail.Message) error {
	err := c.inner.Send(ctx, m)
	if err == nil {
		c.mu.Lock()
		c.n++
		n := c.n
		c.mu.Unlock()
		if c.after != nil {
			c.after(n)
		}
	}
	return err
}

type env struct {
	st      store.Store
	fake    *ocsfake.Server
	smtp    *smtptest.Server
	mailer  *countingMailer
	invites *invite.Service
	svc     *Service
	cfg     config.Config
}

const admin = "admin:test"

func newEnv(t *testing.T, st store.Store) *env {
	t.Helper()
	fake, nc := nctest.Start(t, func(c *nextcloud.Config) { c.APIVersion, c.Timeout = 2, 5*time.Second })
	srv := smtptest.New(t, smtptest.Options{Username: "relay", Password: "relay-password-1"})
	sender, err := mail.New(mail.Config{Host: srv.Host, Port: srv.Port, Username: "relay", Password: "relay-password-1",
		From: "Cloud <noreply@cloud.example>", TLSConfig: srv.TLSConfig(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Issuer = "https://id.example.org"
	cm := &countingMailer{inner: sender}
	inv := invite.New(cfg, invite.Deps{Store: st, Users: nc})
	svc := New(cfg, Deps{Store: st, Directory: nc, Mailer: cm, Invites: inv})
	return &env{st: st, fake: fake, smtp: srv, mailer: cm, invites: inv, svc: svc, cfg: cfg}
}

func (e *env) worker(owner string) *Worker {
	return e.svc.Worker(WorkerOptions{Owner: owner, Interval: time.Millisecond, Poll: 5 * time.Millisecond, Lease: time.Minute})
}

// runUntil runs a worker until cond holds (or fails the test after 10 s).
func (e *env) runUntil(t *testing.T, w *Worker, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatal("worker did not finish in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}

// settled reports whether no target of campaign id is pending.
func (e *env) settled(t *testing.T, id string) func() bool {
	return func() bool {
		c, err := e.st.GetCampaign(t.Context(), id)
		if err != nil {
			t.Error(err)
			return true
		}
		return c.Counts[store.TargetNotStarted] == 0 && c.Counts[store.TargetSending] == 0
	}
}

func (e *env) targets(t *testing.T, id string) map[string]store.CampaignTarget {
	t.Helper()
	page, err := e.st.ListTargets(t.Context(), id, store.ListOptions{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.CampaignTarget{}
	for _, tg := range page.Targets {
		out[tg.NextcloudUserID] = tg
	}
	return out
}
