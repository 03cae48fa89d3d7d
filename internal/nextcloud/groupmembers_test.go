package nextcloud

import (
	"context"
	"fmt"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
)

func TestGroupMembers(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v)
		ctx := context.Background()
		e.fake.AddUser(ocsfake.User{ID: "bob", Groups: []string{"staff"}})
		e.fake.AddUser(ocsfake.User{ID: "alice", Groups: []string{"staff", "ops"}})
		e.fake.AddUser(ocsfake.User{ID: "carol", Groups: []string{"ops"}})
		e.fake.AddGroup("empty")
		got, err := e.c.GroupMembers(ctx, "staff")
		if err != nil || fmt.Sprint(got) != "[alice bob]" {
			t.Fatalf("GroupMembers(staff) = %v, %v", got, err)
		}
		if got, err := e.c.GroupMembers(ctx, "empty"); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("GroupMembers(empty) = %#v, %v", got, err)
		}
		_, err = e.c.GroupMembers(ctx, "nope")
		asError(t, err, ErrNotFound)
		_, err = e.c.GroupMembers(ctx, "")
		asError(t, err, ErrInvalid)
		// Group names may hold slashes; the path segment is escaped.
		e.fake.AddUser(ocsfake.User{ID: "dave", Groups: []string{"a/b"}})
		if got, err := e.c.GroupMembers(ctx, "a/b"); err != nil || fmt.Sprint(got) != "[dave]" {
			t.Fatalf("GroupMembers(a/b) = %v, %v", got, err)
		}
	})
}

func TestGroupMembersNeedsAdminOrSubAdmin(t *testing.T) {
	e := newEnv(t, 2, func(c *Config) { c.User, c.AppPassword = "lead", "lead-app-password" })
	e.fake.AddAccount("lead", "lead-app-password", false)
	e.fake.AddUser(ocsfake.User{ID: "alice", Groups: []string{"staff", "ops"}})
	e.fake.AddSubAdmin("lead", "staff")
	if got, err := e.c.GroupMembers(context.Background(), "staff"); err != nil || fmt.Sprint(got) != "[alice]" {
		t.Fatalf("sub-admin of staff: %v, %v", got, err)
	}
	_, err := e.c.GroupMembers(context.Background(), "ops")
	asError(t, err, ErrUnauthorized)
}
