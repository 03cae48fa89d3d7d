package sqlite

import (
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/conformance"
)

// Two handles on one file stand for two processes sharing the database.
func TestOIDCAcrossHandles(t *testing.T) {
	conformance.RunOIDCShared(t, func(t *testing.T) (store.Store, store.Store) {
		dir := t.TempDir()
		return open(t, dir), open(t, dir)
	})
}
