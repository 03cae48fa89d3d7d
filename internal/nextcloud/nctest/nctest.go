// Package nctest starts the project's fake Nextcloud (ocsfake) with the
// broker's service account and a real client logged in as it, for the
// tests of packages that drive Nextcloud. It is not a _test.go file because
// the tests of many packages import it.
package nctest

import (
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
)

// The service account Start creates (an administrator).
const (
	User        = "broker"
	AppPassword = "broker-app-password"
)

// Start runs a fake Nextcloud, stopped when t ends, and returns it with a
// client for the service account that does not retry (tests want the first
// answer). adjust may change the client's configuration.
func Start(t testing.TB, adjust ...func(*nextcloud.Config)) (*ocsfake.Server, *nextcloud.Client) {
	t.Helper()
	fake := ocsfake.New()
	t.Cleanup(fake.Close)
	fake.AddAccount(User, AppPassword, true)
	cfg := nextcloud.Config{BaseURL: fake.URL(), User: User, AppPassword: AppPassword, MaxRetries: -1}
	for _, a := range adjust {
		a(&cfg)
	}
	nc, err := nextcloud.New(cfg)
	if err != nil {
		t.Fatalf("nextcloud client for the fake: %v", err)
	}
	return fake, nc
}
