package nextcloud

import (
	"context"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
)

// Issue 7 item 7: maintenance mode (HTTP 503, OCS 503) is its own kind, so
// callers can answer 503 with Retry-After instead of a generic 502.
func TestMaintenanceModeIsUnavailable(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v)
		e.fake.SetMaintenance(true)
		_, err := e.c.GetUser(context.Background(), "alice")
		got := asError(t, err, ErrUnavailable)
		if got.HTTPStatus != 503 || got.OCSStatus != 503 {
			t.Fatalf("maintenance: %v", err)
		}
		asError(t, e.c.CreateUser(context.Background(), NewUser{ID: "bob"}), ErrUnavailable)
	})
}

// Issue 7 item 10: the debug line of a failed OCS call carries the real OCS
// status, not 0.
func TestRequestLogCarriesOCSStatusOfFailures(t *testing.T) {
	e := newEnv(t, 2)
	e.fake.AddUser(ocsfake.User{ID: "alice"})
	err := e.c.AddToGroup(context.Background(), "alice", "nosuchgroup")
	asError(t, err, ErrInvalid)
	logs := e.logs.String()
	if !strings.Contains(logs, "ocs_status=102") || strings.Contains(logs, "ocs_status=0 ") {
		t.Fatalf("the failed add_to_group must log ocs_status=102:\n%s", logs)
	}
}

// Issue 7 item 6: the real server refuses a create whose groups[] names a
// missing group and makes no user; with CreateMissingGroups the client
// creates the groups first and then the user.
func TestCreateUserWithMissingGroups(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v)
		err := e.c.CreateUser(context.Background(), NewUser{ID: "newbie", Groups: []string{"newgrp"}})
		ge := asError(t, err, ErrInvalid)
		if ge.OCSStatus != 104 || !strings.Contains(ge.Message, "Group newgrp does not exist") {
			t.Fatalf("create with a missing group: %v", err)
		}
		if _, ok := e.fake.User("newbie"); ok || e.fake.HasGroup("newgrp") {
			t.Fatal("without CreateMissingGroups nothing may be created")
		}

		e = newEnv(t, v, func(c *Config) { c.CreateMissingGroups = true })
		e.fake.AddGroup("old")
		if err := e.c.CreateUser(context.Background(), NewUser{ID: "newbie", Groups: []string{"old", "newgrp"}}); err != nil {
			t.Fatalf("create with CreateMissingGroups: %v", err)
		}
		u, ok := e.fake.User("newbie")
		if !ok || len(u.Groups) != 2 || !e.fake.HasGroup("newgrp") {
			t.Fatalf("user %+v (exists %v), groups must be old and newgrp", u, ok)
		}
		if n := e.fake.CreateCount(); n != 1 {
			t.Fatalf("%d users created, want 1", n)
		}
	})
}
