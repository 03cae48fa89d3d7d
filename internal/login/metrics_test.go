package login

import (
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/clocktest"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

type recordingObserver struct {
	mu      sync.Mutex
	logins  []string // outcome/client
	refused []string
}

func (o *recordingObserver) Login(outcome, client string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.logins = append(o.logins, outcome+"/"+client)
}

func (o *recordingObserver) ProofRefused(reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refused = append(o.refused, reason)
}

// Logins are counted by outcome and client, refused proofs by reason.
func TestLoginOutcomesAreCounted(t *testing.T) {
	obs := &recordingObserver{}
	e := baseEnv(t, clocktest.New(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)))
	e.serve(testConfig(), Deps{Metrics: obs})
	e.link("alice", "alice", store.StatusLinked)

	c := e.challenge("ar1", "alice")
	expect(t, e.post("/login/verify", e.proof(c, "alice", "bob")), http.StatusBadRequest, "address_mismatch") // bob's key for alice
	expect(t, e.post("/login/verify", e.proof(c, "alice", "alice")), http.StatusOK, "")
	if r := e.post("/login/verify", e.proof(c, "alice", "alice")); r.status < 400 { // a replay
		t.Fatalf("replay answered %d", r.status)
	}
	e.prov.add("ar2", "nextcloud", "Example Cloud")
	expect(t, e.post("/login/verify", e.proof(e.challenge("ar2", "bob"), "bob", "bob")), http.StatusForbidden, "not_linked")

	obs.mu.Lock()
	defer obs.mu.Unlock()
	if !slices.Contains(obs.logins, "success/nextcloud") || !slices.Contains(obs.logins, "not_linked/nextcloud") || len(obs.logins) != 2 {
		t.Errorf("logins counted: %v", obs.logins)
	}
	if len(obs.refused) < 2 || !slices.Contains(obs.refused, "address_mismatch") {
		t.Errorf("refused proofs counted: %v", obs.refused)
	}
}
