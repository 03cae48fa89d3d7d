package nextcloud

import (
	"context"
	"net/http"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
)

func TestAddToGroup(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v)
		ctx := context.Background()
		e.fake.AddUser(ocsfake.User{ID: "alice"})
		e.fake.AddGroup("staff")
		if err := e.c.AddToGroup(ctx, "alice", "staff"); err != nil {
			t.Fatal(err)
		}
		if u, _ := e.fake.User("alice"); len(u.Groups) != 1 || u.Groups[0] != "staff" {
			t.Fatalf("groups %v", u.Groups)
		}
		ge := asError(t, e.c.AddToGroup(ctx, "alice", "ghosts"), ErrInvalid)
		if ge.OCSStatus != 102 || ge.Message != "group ghosts does not exist" {
			t.Fatalf("missing group: %v", ge)
		}
		if e.fake.HasGroup("ghosts") {
			t.Fatal("group created without CreateMissingGroups")
		}
		asError(t, e.c.AddToGroup(ctx, "nobody", "staff"), ErrNotFound)
	})
}

func TestAddToGroupCreatesMissingGroup(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v, func(c *Config) { c.CreateMissingGroups = true })
		e.fake.AddUser(ocsfake.User{ID: "alice"})
		if err := e.c.AddToGroup(context.Background(), "alice", "qortal"); err != nil {
			t.Fatal(err)
		}
		if u, _ := e.fake.User("alice"); len(u.Groups) != 1 || u.Groups[0] != "qortal" {
			t.Fatalf("groups %v", u.Groups)
		}
		if n := e.fake.Requests(ocsfake.RouteAddToGroup); n != 2 {
			t.Fatalf("want add, create, add: %d adds", n)
		}
	})
}

func TestAddToGroupAsGroupAdmin(t *testing.T) {
	e := newEnv(t, 2, func(c *Config) { c.User, c.AppPassword = "lead", "lead-app-password" })
	e.fake.AddAccount("lead", "lead-app-password", false)
	e.fake.AddSubAdmin("lead", "team")
	e.fake.AddGroup("other")
	e.fake.AddUser(ocsfake.User{ID: "alice", Groups: []string{"team"}})
	if err := e.c.AddToGroup(context.Background(), "alice", "team"); err != nil {
		t.Fatal(err)
	}
	asError(t, e.c.AddToGroup(context.Background(), "alice", "other"), ErrUnauthorized)
}

func TestCreateGroup(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v)
		ctx := context.Background()
		if err := e.c.CreateGroup(ctx, "qortal users"); err != nil {
			t.Fatal(err)
		}
		if !e.fake.HasGroup("qortal users") {
			t.Fatal("group not created")
		}
		if err := e.c.CreateGroup(ctx, "qortal users"); err != nil {
			t.Fatalf("existing group must be fine: %v", err)
		}
		asError(t, e.c.CreateGroup(ctx, ""), ErrInvalid)
	})
}

func TestCreateGroupNeedsAdmin(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v, func(c *Config) { c.User, c.AppPassword = "lead", "lead-app-password" })
		e.fake.AddAccount("lead", "lead-app-password", false)
		fe := asError(t, e.c.CreateGroup(context.Background(), "g"), ErrUnauthorized)
		wantHTTP := map[int]int{1: http.StatusOK, 2: http.StatusForbidden}[v]
		if fe.OCSStatus != 403 || fe.HTTPStatus != wantHTTP {
			t.Fatalf("v%d: %v", v, fe)
		}
	})
}
