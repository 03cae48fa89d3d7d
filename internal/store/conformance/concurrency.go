package conformance

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

const racers = 20

// race runs fn from racers goroutines released at the same moment and
// returns their errors.
func race(fn func(i int) error) []error {
	var (
		start = make(chan struct{})
		wg    sync.WaitGroup
		errs  = make([]error, racers)
	)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// exactlyOneWins asserts one nil error and every other error being loser.
func exactlyOneWins(t *testing.T, what string, errs []error, loser error) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, loser):
			t.Errorf("%s: a loser got %v, want %v", what, err, loser)
		}
	}
	if wins != 1 {
		t.Errorf("%s: %d of %d succeeded, want exactly 1", what, wins, len(errs))
	}
}

func runConcurrency(t *testing.T, newStore NewStore) {
	t.Run("ConsumeChallengeOnce", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		now := time.Now()
		if err := s.CreateChallenge(t.Context(), challenge("contested", now)); err != nil {
			t.Fatal(err)
		}
		errs := race(func(int) error {
			_, err := s.ConsumeChallenge(t.Context(), "contested", now.Add(time.Second))
			return err
		})
		exactlyOneWins(t, "concurrent ConsumeChallenge", errs, store.ErrChallengeUsed)
	})

	t.Run("CreateSameAddress", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		errs := race(func(i int) error {
			m := mapping(i)
			m.QortalAddress = "Qcontested"
			_, err := s.CreateMapping(t.Context(), m, by(fmt.Sprintf("admin:%d", i)))
			return err
		})
		exactlyOneWins(t, "concurrent CreateMapping of one address", errs, store.ErrAddressTaken)
		if n := len(allAudit(t, s)); n != 1 {
			t.Errorf("%d audit entries, want 1 (only the winner's)", n)
		}
		winner, err := s.GetMappingByAddress(t.Context(), "Qcontested")
		if err != nil {
			t.Fatal(err)
		}
		var idx int
		if _, err := fmt.Sscanf(winner.NextcloudUserID, "user%04d", &idx); err != nil || errs[idx] != nil {
			t.Errorf("stored mapping %+v is not the winner's", winner)
		}
	})

	t.Run("CreateSameUser", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		errs := race(func(i int) error {
			m := mapping(i)
			m.NextcloudUserID = "contested"
			_, err := s.CreateMapping(t.Context(), m, by("admin:test"))
			return err
		})
		exactlyOneWins(t, "concurrent CreateMapping of one user", errs, store.ErrUserTaken)
	})

	t.Run("MixedWorkload", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		// Different keys from many goroutines: nothing may fail (SQLite
		// must serialise writers rather than report "database is locked").
		errs := race(func(i int) error {
			m, err := s.CreateMapping(t.Context(), mapping(i), by("admin:test"))
			if err != nil {
				return err
			}
			m.DisplayName = "updated"
			if _, err := s.UpdateMapping(t.Context(), m, by("admin:test")); err != nil {
				return err
			}
			if _, err := s.ListMappings(t.Context(), store.ListOptions{Query: "user"}); err != nil {
				return err
			}
			id := fmt.Sprintf("mixed-%d", i)
			if err := s.CreateChallenge(t.Context(), challenge(id, time.Now())); err != nil {
				return err
			}
			_, err = s.ConsumeChallenge(t.Context(), id, time.Now())
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("goroutine %d: %v", i, err)
			}
		}
		if counts, err := s.CountMappings(t.Context()); err != nil || counts[store.StatusLinked] != racers {
			t.Errorf("CountMappings = %v, %v; want %d linked", counts, err, racers)
		}
	})
}
