package onboarding

import (
	"slices"
	"sync"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

type deliveries struct {
	mu   sync.Mutex
	seen []string
}

func (d *deliveries) Delivered(channel, result string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen = append(d.seen, channel+"/"+result)
}

// Each message is counted by channel and result.
func TestDeliveriesAreCounted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.Open(t, storetest.SQLite))
	obs := &deliveries{}
	e.svc = New(e.cfg, Deps{Store: e.st, Directory: e.svc.dir, Mailer: e.mailer, Invites: e.invites, Metrics: obs})
	e.fake.AddUser(ocsfake.User{ID: "alice", Email: "alice@example.org", Groups: []string{"staff"}})
	c, err := e.svc.Start(t.Context(), admin, StartRequest{UserIDs: []string{"alice"}, Channels: []string{"notification", "email"}})
	if err != nil {
		t.Fatal(err)
	}
	e.runUntil(t, e.worker("w1"), e.settled(t, c.ID))
	obs.mu.Lock()
	defer obs.mu.Unlock()
	slices.Sort(obs.seen)
	if !slices.Equal(obs.seen, []string{"email/sent", "notification/sent"}) {
		t.Fatalf("deliveries counted: %v", obs.seen)
	}
}
