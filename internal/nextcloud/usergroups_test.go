package nextcloud

import (
	"context"
	"fmt"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
)

func TestUserGroups(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v)
		ctx := context.Background()
		e.fake.AddUser(ocsfake.User{ID: "alice", Groups: []string{"staff", "ops"}})
		e.fake.AddUser(ocsfake.User{ID: "bob"})
		if got, err := e.c.UserGroups(ctx, "alice"); err != nil || fmt.Sprint(got) != "[ops staff]" {
			t.Fatalf("UserGroups(alice) = %v, %v", got, err)
		}
		if got, err := e.c.UserGroups(ctx, "bob"); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("UserGroups(bob) = %#v, %v", got, err)
		}
		_, err := e.c.UserGroups(ctx, "nobody")
		asError(t, err, ErrNotFound)
	})
}

func TestUserGroupsAsSubAdmin(t *testing.T) {
	e := newEnv(t, 2, func(c *Config) { c.User, c.AppPassword = "lead", "lead-app-password" })
	e.fake.AddAccount("lead", "lead-app-password", false)
	e.fake.AddUser(ocsfake.User{ID: "alice", Groups: []string{"staff", "ops"}})
	e.fake.AddUser(ocsfake.User{ID: "carol", Groups: []string{"ops"}})
	e.fake.AddSubAdmin("lead", "staff")
	if got, err := e.c.UserGroups(context.Background(), "alice"); err != nil || fmt.Sprint(got) != "[staff]" {
		t.Fatalf("sub-admin sees %v, %v; want only [staff]", got, err)
	}
	_, err := e.c.UserGroups(context.Background(), "carol")
	asError(t, err, ErrUnauthorized)
}
