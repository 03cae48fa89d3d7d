package sqlite

import (
	"context"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/conformance"
)

func openDir(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Two handles on one file stand for two processes sharing the database.
func TestOIDCAcrossHandles(t *testing.T) {
	conformance.RunOIDCShared(t, func(t *testing.T) (store.Store, store.Store) {
		dir := t.TempDir()
		return openDir(t, dir), openDir(t, dir)
	})
}
