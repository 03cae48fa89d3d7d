package postgres

import (
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/conformance"
	"github.com/qortal-oidc/qortal-oidc/internal/store/pgtest"
)

// Two pools on one schema stand for two broker replicas.
func TestOIDCAcrossReplicas(t *testing.T) {
	conformance.RunOIDCShared(t, func(t *testing.T) (store.Store, store.Store) {
		url := pgtest.URL(t)
		return open(t, url), open(t, url)
	})
}
