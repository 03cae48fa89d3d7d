// Package storetest opens real stores for the tests of other packages, so
// that every package runs its store-backed tests on both backends the same
// way. It is not a _test.go file because it is imported across packages.
package storetest

import (
	"context"
	"log/slog"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/pgtest"
	"github.com/qortal-oidc/qortal-oidc/internal/store/postgres"
	"github.com/qortal-oidc/qortal-oidc/internal/store/sqlite"
)

// Kind names a store backend.
type Kind string

// The backends. Postgres needs pgtest.EnvVar; without it the test fails.
const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
)

// Kinds lists every backend, in a fixed order.
func Kinds() []Kind { return []Kind{SQLite, Postgres} }

// Opener returns a store handle that is closed when t ends. It is an alias
// so that tests may spell it out as a plain func type.
type Opener = func(t testing.TB) store.Store

// Open opens a fresh, empty store of kind, closed when t ends.
func Open(t testing.TB, kind Kind) store.Store {
	t.Helper()
	return Shared(t, kind)(t)
}

// Shared creates one fresh database of kind and returns an Opener whose
// handles all use it: each handle stands for one broker replica.
func Shared(t testing.TB, kind Kind) Opener {
	t.Helper()
	var open func(ctx context.Context, log *slog.Logger) (store.Store, error)
	switch kind {
	case SQLite:
		dir := t.TempDir()
		open = func(ctx context.Context, log *slog.Logger) (store.Store, error) { return sqlite.Open(ctx, dir, log) }
	case Postgres:
		url := pgtest.URL(t)
		open = func(ctx context.Context, log *slog.Logger) (store.Store, error) { return postgres.Open(ctx, url, log) }
	default:
		t.Fatalf("storetest: unknown store kind %q", kind)
	}
	return func(t testing.TB) store.Store {
		t.Helper()
		s, err := open(context.Background(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("open %s store: %v", kind, err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
}

// ForEach runs fn as one subtest per backend; each call of open gives a
// fresh, empty store of that backend.
func ForEach(t *testing.T, fn func(t *testing.T, open Opener)) {
	for _, k := range Kinds() {
		t.Run(string(k), func(t *testing.T) {
			fn(t, func(t testing.TB) store.Store { return Open(t, k) })
		})
	}
}
