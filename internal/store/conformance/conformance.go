// Package conformance is the one behavioural specification of store.Store:
// every backend's tests call Run, so the backends cannot disagree about
// semantics, errors or precision.
package conformance

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// NewStore returns a fresh, empty store for one test and closes it in
// t.Cleanup. Run calls it once per subtest, possibly from parallel subtests.
type NewStore = func(t *testing.T) store.Store

// Run checks every method of the store, including every error it promises.
func Run(t *testing.T, newStore NewStore) {
	t.Run("Mappings", func(t *testing.T) { runMappings(t, newStore) })
	t.Run("AccountSafety", func(t *testing.T) { runAccountSafety(t, newStore) })
	t.Run("MappingList", func(t *testing.T) { runMappingList(t, newStore) })
	t.Run("Audit", func(t *testing.T) { runAudit(t, newStore) })
	t.Run("Challenges", func(t *testing.T) { runChallenges(t, newStore) })
	t.Run("Concurrency", func(t *testing.T) { runConcurrency(t, newStore) })
	t.Run("Lifecycle", func(t *testing.T) { runLifecycle(t, newStore) })
	t.Run("OIDC", func(t *testing.T) { runOIDC(t, newStore) })
	t.Run("Admin", func(t *testing.T) { runAdmin(t, newStore) })
	t.Run("Console", func(t *testing.T) { runConsole(t, newStore) })
	t.Run("BrokerSessions", func(t *testing.T) { runBroker(t, newStore) })
	t.Run("QApps", func(t *testing.T) { runQApps(t, newStore) })
	t.Run("RateLimits", func(t *testing.T) { runRateLimits(t, newStore) })
}

func runLifecycle(t *testing.T, newStore NewStore) {
	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		if err := newStore(t).Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
	t.Run("UnavailableAfterClose", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := s.Ping(t.Context()); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Ping after Close = %v, want ErrUnavailable", err)
		}
		if _, err := s.GetMappingByAddress(t.Context(), "Qanything"); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("GetMappingByAddress after Close = %v, want ErrUnavailable", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close = %v, want nil", err)
		}
	})
}

// Fixtures.

func mapping(i int) store.Mapping {
	return store.Mapping{
		QortalAddress:   fmt.Sprintf("Qaddr%04d", i),
		NextcloudUserID: fmt.Sprintf("user%04d", i),
		DisplayName:     fmt.Sprintf("User %d", i),
		Email:           fmt.Sprintf("user%d@example.org", i),
		Status:          store.StatusLinked,
	}
}

func by(actor string) store.AuditEntry {
	return store.AuditEntry{Actor: actor, Detail: `{"test":true}`}
}

func mustCreate(t *testing.T, s store.Store, m store.Mapping) store.Mapping {
	t.Helper()
	got, err := s.CreateMapping(t.Context(), m, by("admin:test"))
	if err != nil {
		t.Fatalf("CreateMapping(%s): %v", m.QortalAddress, err)
	}
	return got
}

// allAudit returns the whole audit log, newest first.
func allAudit(t *testing.T, s store.Store) []store.AuditEntry {
	t.Helper()
	var out []store.AuditEntry
	opts := store.ListOptions{Limit: 500}
	for {
		page, err := s.ListAudit(t.Context(), opts)
		if err != nil {
			t.Fatalf("ListAudit: %v", err)
		}
		out = append(out, page.Entries...)
		if page.NextCursor == "" {
			return out
		}
		opts.Cursor = page.NextCursor
	}
}

// checkStoredTime asserts what both databases keep: UTC, whole microseconds.
func checkStoredTime(t *testing.T, what string, got time.Time) {
	t.Helper()
	if got.IsZero() || got.Location() != time.UTC || got.Nanosecond()%1000 != 0 {
		t.Errorf("%s = %v: want a non-zero UTC time with microsecond precision", what, got)
	}
}

// between asserts lo <= got <= hi at microsecond precision.
func between(t *testing.T, what string, got, lo, hi time.Time) {
	t.Helper()
	if got.Before(lo.Truncate(time.Microsecond)) || got.After(hi) {
		t.Errorf("%s = %v, want within [%v, %v]", what, got, lo, hi)
	}
}

// wantErr asserts err matches want and none of the other sentinels, so a
// backend cannot pass by returning a vaguer or wrong error.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
		return
	}
	for _, other := range []error{store.ErrNotFound, store.ErrAddressTaken, store.ErrUserTaken,
		store.ErrChallengeUsed, store.ErrChallengeExpired, store.ErrUnavailable, store.ErrInvalidCursor} {
		if other != want && errors.Is(err, other) {
			t.Errorf("%s: err = %v also matches %v", what, err, other)
		}
	}
}

// wantPlainErr asserts a validation failure: an error, but none of the
// sentinels that would make callers treat it as a conflict or outage.
func wantPlainErr(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: succeeded, want an error", what)
		return
	}
	for _, s := range []error{store.ErrNotFound, store.ErrAddressTaken, store.ErrUserTaken,
		store.ErrChallengeUsed, store.ErrChallengeExpired, store.ErrUnavailable, store.ErrInvalidCursor} {
		if errors.Is(err, s) {
			t.Errorf("%s: err = %v, want a validation error, not %v", what, err, s)
		}
	}
}
