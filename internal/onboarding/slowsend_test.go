package onboarding

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/invite"
	"github.com/qortal-oidc/qortal-oidc/internal/mail"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// stallingSMTP accepts connections and never says a word, like a relay
// that hangs: every send runs into its deadline.
func stallingSMTP(t *testing.T) (host string, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	a := ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

// A send cut off by the delivery deadline is recorded as exactly that
// failure, and its invite revoked, even though the deadline has passed by
// the time the outcome is written.
func TestSendCutOffByDeadlineIsRecorded(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open(t))
		host, port := stallingSMTP(t)
		sender, err := mail.New(mail.Config{Host: host, Port: port, From: "noreply@cloud.example", TLS: "none", Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		cfg := config.Default()
		e.svc = New(cfg, Deps{Store: e.st, Directory: e.svc.dir, Mailer: sender, Invites: invite.New(cfg, invite.Deps{Store: e.st})})
		e.fake.AddUser(ocsfake.User{ID: "dora", Email: "dora@example.org"})
		c, err := e.svc.Start(t.Context(), admin, StartRequest{UserIDs: []string{"dora"}, Channels: []string{"email"}})
		if err != nil {
			t.Fatal(err)
		}
		// Lease 2s: the send is cut off at 1.2s, and the outcome is written
		// well before the lease ends even on a loaded machine (with a 1s
		// lease the 400ms margin was sometimes not enough under CI load).
		w := e.svc.Worker(WorkerOptions{Owner: "w1", Interval: time.Millisecond, Poll: 5 * time.Millisecond, Lease: 2 * time.Second})
		e.runUntil(t, w, e.settled(t, c.ID))
		tg := e.targets(t, c.ID)["dora"]
		if tg.State != store.TargetFailed || !strings.HasPrefix(tg.LastError, "e-mail:") || tg.LastError == InterruptedReason {
			t.Fatalf("target = %+v, want failed with the e-mail error", tg)
		}
		inv, err := e.st.GetInvite(t.Context(), tg.InviteID)
		if err != nil {
			t.Fatal(err)
		}
		if inv.RevokedAt == nil {
			t.Fatalf("the invite no message carried is still active: %+v", inv)
		}
	})
}
