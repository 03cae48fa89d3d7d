package nctest

import (
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
)

func TestClientReachesTheFakeAsTheServiceAccount(t *testing.T) {
	adjusted := false
	fake, nc := Start(t, func(c *nextcloud.Config) { c.Timeout = 5 * time.Second; adjusted = true })
	if !adjusted {
		t.Fatal("adjust was not applied")
	}
	fake.AddUser(ocsfake.User{ID: "carol", DisplayName: "Carol"})
	u, err := nc.GetUser(t.Context(), "carol")
	if err != nil {
		t.Fatalf("the client cannot read the fake as %s: %v", User, err)
	}
	if u.ID != "carol" {
		t.Fatalf("got user %q", u.ID)
	}
}
