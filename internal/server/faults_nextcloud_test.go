package server

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/sqlite"
)

// TestSlowNextcloudNeverDelaysLinkedLogins: while Nextcloud takes 5 s per
// account creation and every Nextcloud slot is taken by auto-provisioning
// logins, logins of already linked users complete (they never call
// Nextcloud), further provisioning is refused at once with 503
// nextcloud_unavailable instead of piling up, and with Nextcloud in
// maintenance linked users still log in.
func TestSlowNextcloudNeverDelaysLinkedLogins(t *testing.T) {
	st, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	nc := newFakeNextcloud(t)
	fb := newFaultBroker(t, nc, []store.Store{st}, func(c *configT) {
		c.Policy.Mode, c.Policy.Guard = "auto_provision", "none"
		c.Nextcloud.MaxConcurrent, c.Nextcloud.QueueTimeout, c.Nextcloud.Timeout = 2, 100*time.Millisecond, 30*time.Second
	})
	c := newClient(fb.issuer)
	linked := newAccounts(t, 3)
	for i, acct := range linked {
		if a := c.provision(acct, "linked"+strconv.Itoa(i)); a.status != http.StatusCreated {
			t.Fatalf("provision: %s", a)
		}
	}
	nc.SetCreateDelay(5 * time.Second) // margin for a slow CI machine; the linked logins take milliseconds
	ncClient := fb.replicas[0].nextcloud

	// Two new users whose logins create their accounts: they hold both slots.
	var slow sync.WaitGroup
	var slowTally tally
	for _, acct := range newAccounts(t, 2) {
		slow.Add(1)
		go func() { defer slow.Done(); c.login(&slowTally, acct, "s-new") }()
	}
	deadline := time.Now().Add(10 * time.Second)
	for ncClient.InFlight() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the provisioning logins never reached Nextcloud")
		}
		time.Sleep(5 * time.Millisecond)
	}

	var tl tally
	for i, acct := range linked {
		if _, ok := c.login(&tl, acct, "s-linked"+strconv.Itoa(i)); !ok {
			t.Fatalf("a linked user's login while Nextcloud is slow: %s %v", tl.String(), tl.wrong)
		}
	}
	// A third new user finds no slot: refused now, not queued for seconds.
	var third tally
	if _, ok := c.login(&third, newAccounts(t, 1)[0], "s-third"); ok {
		t.Fatal("a provisioning login got through with every Nextcloud slot taken")
	}
	if third.errorKinds() != "verify 503 nextcloud_unavailable: 1; " {
		t.Fatalf("a provisioning login with every slot taken: %s", third.errorKinds())
	}
	if n := ncClient.InFlight(); n != 2 {
		t.Fatalf("%d Nextcloud requests in flight after the linked logins, want the 2 slow creations still running: the linked logins waited for them", n)
	}
	slow.Wait()
	if slowTally.ok("token") != 2 {
		t.Errorf("the slow provisioning logins: %s %v", slowTally.String(), slowTally.wrong)
	}

	nc.SetMaintenance(true)
	if _, ok := c.login(&tl, linked[0], "s-maint"); !ok {
		t.Fatalf("a linked user's login with Nextcloud in maintenance: %v", tl.wrong)
	}
}
