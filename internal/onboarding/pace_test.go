package onboarding

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/ratelimit"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// Two replicas' workers with the pace shared through one Postgres deliver
// one budget between them, not one each.
func TestSharedPaceIsOneBudgetForTwoWorkers(t *testing.T) {
	open := storetest.Shared(t, storetest.Postgres)
	e := newEnv(t, open(t))
	for i := 0; i < 10; i++ {
		e.fake.AddUser(ocsfake.User{ID: fmt.Sprintf("u%d", i), Groups: []string{"staff"}})
	}
	c, err := e.svc.Start(t.Context(), admin, StartRequest{Group: "staff", Channels: []string{"notification"}})
	if err != nil {
		t.Fatal(err)
	}
	const budget = 3
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	// A fixed clock: the run must not straddle a window boundary.
	now := func() time.Time { return time.Date(2026, 5, 1, 12, 30, 0, 0, time.UTC) }
	for i := 0; i < 2; i++ {
		pace := ratelimit.NewShared(open(t), ratelimit.SharedConfig{Name: "onboarding", Limit: budget, Window: time.Hour, Now: now})
		w := e.svc.Worker(WorkerOptions{Owner: fmt.Sprintf("replica%d", i), Interval: time.Millisecond, Poll: 5 * time.Millisecond, Lease: time.Minute, Pace: pace})
		wg.Add(1)
		go func() { defer wg.Done(); _ = w.Run(ctx) }()
	}
	wg.Wait()
	got, err := e.st.GetCampaign(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	delivered := 10 - got.Counts[store.TargetNotStarted]
	// One extra per racing replica is the documented slack.
	if delivered < budget || delivered > budget+1 {
		t.Fatalf("two workers delivered %d, want %d (one shared budget, +1 for a race)", delivered, budget)
	}
}
