package server

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/pgtest"
	"github.com/qortal-oidc/qortal-oidc/internal/store/postgres"
)

// load drives concurrent logins and provisioning upserts against a broker
// and records every answer in the tally of the current phase.
type load struct {
	c     *client
	accts []loginAccount
	phase atomic.Pointer[tally]

	mu      sync.Mutex
	logins  []trace
	upserts []upsert
	stop    chan struct{}
	wg      sync.WaitGroup
	seq     atomic.Int64
}

type upsert struct {
	acct   loginAccount
	user   string
	status int
}

func startLoad(c *client, accts []loginAccount, loginWorkers int) *load {
	l := &load{c: c, accts: accts, stop: make(chan struct{})}
	l.phase.Store(&tally{})
	for i := 0; i < loginWorkers; i++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for !l.stopped() {
				acct := l.accts[rand.IntN(len(l.accts))]
				if tr, ok := l.c.login(l, acct, "s"+strconv.FormatInt(l.seq.Add(1), 10)); ok {
					l.mu.Lock()
					l.logins = append(l.logins, tr)
					l.mu.Unlock()
				}
			}
		}()
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for !l.stopped() {
			acct := newAccountsNoT(1)[0]
			user := "load-" + strconv.FormatInt(l.seq.Add(1), 10)
			a := l.c.provision(acct, user)
			l.add(a)
			l.mu.Lock()
			l.upserts = append(l.upserts, upsert{acct: acct, user: user, status: a.status})
			l.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return l
}

// add records a in the phase current when the answer arrived; after an
// outage answer the worker pauses briefly instead of spinning.
func (l *load) add(a answer) outcome {
	o := l.phase.Load().add(a)
	if o == outageAnswer {
		time.Sleep(20 * time.Millisecond)
	}
	return o
}

func (l *load) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

// enter starts a new phase and returns the previous phase's tally.
func (l *load) enter() *tally { return l.phase.Swap(&tally{}) }

func (l *load) finish() *tally {
	close(l.stop)
	l.wg.Wait()
	return l.phase.Load()
}

// firstLoginAfter is when the first login that started at or after t
// completed, or zero.
func (l *load) firstLoginAfter(t time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var first time.Time
	for _, tr := range l.logins {
		if !tr.start.Before(t) && (first.IsZero() || tr.end.Before(first)) {
			first = tr.end
		}
	}
	return first
}

// checkAfterLoad verifies what the load left: every successful login's
// tokens work, nothing is usable twice, every upsert answered 2xx is there
// and one answered 503 can be retried, and no mapping is lost or doubled.
func checkAfterLoad(t *testing.T, l *load, st store.Store, preLinked int) {
	t.Helper()
	c := l.c
	l.mu.Lock()
	logins, upserts := l.logins, l.upserts
	l.mu.Unlock()
	// Tokens first (a replayed code revokes what it gave), for the newest
	// 40 logins to bound the run time; then replays, for every login.
	for i, tr := range logins {
		if i < len(logins)-40 {
			continue
		}
		if a := c.userinfo(tr.Access); a.status != http.StatusOK {
			t.Errorf("userinfo with a token from the load: %s", a)
		}
		if a := c.refresh(tr.Refresh); a.status != http.StatusOK {
			t.Errorf("refresh a token from the load: %s", a)
		}
		if a := c.refresh(tr.Refresh); a.status == http.StatusOK {
			t.Errorf("a refresh token was used twice")
		}
	}
	for _, tr := range logins {
		if _, a := c.exchangeAnswer(tr.code); a.status == http.StatusOK {
			t.Errorf("a code from the load was exchanged twice")
		}
		if a := c.postJSON("verify", "/login/verify", map[string]any{"challengeId": tr.challengeID, "publicKey": tr.publicKey, "signature": tr.signature}); a.status == http.StatusOK {
			t.Errorf("a challenge from the load was used twice: %s", a)
		}
	}
	want := map[string]string{}
	for _, u := range upserts {
		if u.status == http.StatusServiceUnavailable {
			// The documented answer means "retry": the retry must succeed
			// whatever the first attempt left behind.
			if a := c.provision(u.acct, u.user); a.status != http.StatusOK && a.status != http.StatusCreated {
				t.Errorf("retrying an upsert answered 503: %s", a)
				continue
			}
		}
		want[u.acct.Address] = u.user
	}
	for addr, user := range want {
		if m, err := st.GetMappingByAddress(context.Background(), addr); err != nil || m.NextcloudUserID != user || m.Status != store.StatusLinked {
			t.Errorf("mapping %s -> %s after the load: %+v %v", addr, user, m, err)
		}
	}
	counts, err := st.CountMappings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := counts[store.StatusLinked]; n != preLinked+len(want) {
		t.Errorf("%d linked mappings after the load, want %d (%d before + %d upserts)", n, preLinked+len(want), preLinked, len(want))
	}
}

// TestPostgresRestartAndStopUnderLoad restarts a real Postgres (fast
// shutdown), then stops it for 3 s, under concurrent logins and upserts
// through two replicas: every answer is a success or the documented outage
// answer, logins resume within 2 s of Postgres accepting connections, and
// afterwards nothing is lost, doubled or usable twice.
func TestPostgresRestartAndStopUnderLoad(t *testing.T) {
	pg := pgtest.StartServer(t)
	var stores []store.Store
	for i := 0; i < 2; i++ {
		st, err := postgres.Open(context.Background(), pg.URL(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
	}
	nc := newFakeNextcloud(t)
	fb := newFaultBroker(t, nc, stores)
	c := newClient(fb.issuer)
	accts := newAccounts(t, 8)
	for i, acct := range accts {
		if a := c.provision(acct, "user"+strconv.Itoa(i)); a.status != http.StatusCreated {
			t.Fatalf("provision: %s", a)
		}
	}

	l := startLoad(c, accts, 4)
	time.Sleep(time.Second)
	steady := l.enter()

	restartAt := time.Now()
	pg.Restart("fast")
	up := time.Now()
	time.Sleep(1500 * time.Millisecond)
	restart := l.enter()
	restartRecovery := l.firstLoginAfter(up).Sub(up)
	t.Logf("restart: Postgres down for %v", up.Sub(restartAt).Round(time.Millisecond))

	pg.Stop("fast")
	stoppedAt := time.Now()
	time.Sleep(3 * time.Second)
	pg.Start()
	up = time.Now()
	time.Sleep(2500 * time.Millisecond)
	stop := l.enter()
	stopRecovery := l.firstLoginAfter(up).Sub(up)
	t.Logf("stop: Postgres down for %v", up.Sub(stoppedAt).Round(time.Millisecond))
	time.Sleep(500 * time.Millisecond)
	after := l.finish()

	for _, ph := range []struct {
		name string
		tl   *tally
	}{{"steady", steady}, {"restart", restart}, {"stop 3s", stop}, {"after", after}} {
		t.Logf("%s: ok logins %d; answers %s; non-2xx/3xx by kind: %s", ph.name, ph.tl.ok("token"), ph.tl.String(), ph.tl.errorKinds())
		if n := ph.tl.wrongCount(); n > 0 {
			t.Errorf("%s: %d answers were neither a success nor the documented outage answer: %v", ph.name, n, ph.tl.wrong)
		}
	}
	t.Logf("recovery (first login completed that started after Postgres accepted connections): restart %v, stop %v",
		restartRecovery.Round(time.Millisecond), stopRecovery.Round(time.Millisecond))
	for name, r := range map[string]time.Duration{"restart": restartRecovery, "stop": stopRecovery} {
		if r <= 0 || r > 2*time.Second {
			t.Errorf("%s: logins did not resume within 2 s of Postgres accepting connections (%v)", name, r)
		}
	}
	if after.ok("token") == 0 || steady.ok("token") == 0 {
		t.Errorf("no logins before or after the faults")
	}
	checkAfterLoad(t, l, stores[0], len(accts))
}
