package nextcloud

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
)

func TestGetUser(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v)
		ctx := context.Background()
		e.fake.AddUser(ocsfake.User{ID: "alice smith", DisplayName: "Alice", Email: "alice@example.org",
			Groups: []string{"staff"}, Quota: "5 GB", Disabled: true})
		u, err := e.c.GetUser(ctx, "alice smith")
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != "alice smith" || u.DisplayName != "Alice" || u.Email != "alice@example.org" ||
			u.Enabled || u.Quota != "5368709120" || len(u.Groups) != 1 || u.Groups[0] != "staff" {
			t.Fatalf("got %+v", u)
		}
		e.fake.AddUser(ocsfake.User{ID: "bob"})
		if u, err = e.c.GetUser(ctx, "bob"); err != nil || !u.Enabled || u.Quota != "none" || u.Email != "" {
			t.Fatalf("got %+v, %v", u, err)
		}

		_, err = e.c.GetUser(ctx, "nobody")
		nf := asError(t, err, ErrNotFound)
		wantHTTP := map[int]int{1: http.StatusOK, 2: http.StatusNotFound}[v]
		if nf.HTTPStatus != wantHTTP || nf.OCSStatus != 404 {
			t.Fatalf("v%d not-found mapping: HTTP %d OCS %d", v, nf.HTTPStatus, nf.OCSStatus)
		}
		_, err = e.c.GetUser(ctx, "../cloud/user")
		asError(t, err, ErrInvalid)
	})
}

func TestGetUserInvisibleToGroupAdmin(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v, func(c *Config) { c.User, c.AppPassword = "lead", "lead-app-password" })
		e.fake.AddAccount("lead", "lead-app-password", false)
		e.fake.AddSubAdmin("lead", "team")
		e.fake.AddUser(ocsfake.User{ID: "member", Groups: []string{"team"}})
		e.fake.AddUser(ocsfake.User{ID: "outsider"})
		if _, err := e.c.GetUser(context.Background(), "member"); err != nil {
			t.Fatal(err)
		}
		_, err := e.c.GetUser(context.Background(), "outsider")
		if asError(t, err, ErrNotFound).OCSStatus != 998 {
			t.Fatalf("want 998: %v", err)
		}
	})
}

func TestCreateUser(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v)
		ctx := context.Background()
		e.fake.AddGroup("staff")
		err := e.c.CreateUser(ctx, NewUser{ID: "Qabc.123", DisplayName: "Q User", Email: "q@example.org",
			Quota: "5 GB", Language: "de", Groups: []string{"staff"}})
		if err != nil {
			t.Fatal(err)
		}
		u, ok := e.fake.User("Qabc.123")
		if !ok || u.DisplayName != "Q User" || u.Email != "q@example.org" || u.Quota != "5 GB" ||
			u.Language != "de" || len(u.Groups) != 1 || u.Groups[0] != "staff" {
			t.Fatalf("stored %+v", u)
		}
		if len(u.Password) != 32 {
			t.Fatalf("generated password length %d", len(u.Password))
		}
		if e.fake.CreateCount() != 1 {
			t.Fatalf("creates %d", e.fake.CreateCount())
		}

		ex := asError(t, e.c.CreateUser(ctx, NewUser{ID: "Qabc.123"}), ErrExists)
		if ex.OCSStatus != 102 {
			t.Fatalf("want 102: %v", ex)
		}
		if e.fake.CreateCount() != 1 {
			t.Fatal("duplicate create changed state")
		}
	})
}

func TestCreateUserFailures(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		ctx := context.Background()
		cases := []struct {
			name  string
			setup func(*ocsfake.Server)
			user  NewUser
			kind  error
			ocs   int
		}{
			{"group missing", nil, NewUser{ID: "a", Groups: []string{"ghosts"}}, ErrInvalid, 104},
			{"password policy", func(s *ocsfake.Server) { s.RejectPasswords(true) }, NewUser{ID: "a"}, ErrPolicyRejected, 107},
			{"email required", func(s *ocsfake.Server) { s.RequireEmail(true) }, NewUser{ID: "a"}, ErrInvalid, 110},
			{"bad request", func(s *ocsfake.Server) { s.FailNextOCS(ocsfake.RouteCreateUser, 101, "Bad request", 1) }, NewUser{ID: "a"}, ErrInvalid, 101},
			{"no password nor email", func(s *ocsfake.Server) {
				s.FailNextOCS(ocsfake.RouteCreateUser, 108, "To send a password link to the user an email address is required.", 1)
			}, NewUser{ID: "a"}, ErrInvalid, 108},
			{"unknown language", nil, NewUser{ID: "a", Language: "xx"}, ErrInvalid, 102},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t, v)
				if tc.setup != nil {
					tc.setup(e.fake)
				}
				err := asError(t, e.c.CreateUser(ctx, tc.user), tc.kind)
				if err.OCSStatus != tc.ocs || err.Message == "" {
					t.Fatalf("want OCS %d with message, got %v", tc.ocs, err)
				}
				wantHTTP := map[int]int{1: 200, 2: 400}[v]
				if err.HTTPStatus != wantHTTP {
					t.Fatalf("v%d: want HTTP %d, got %d", v, wantHTTP, err.HTTPStatus)
				}
			})
		}
	})
}

func TestCreateUserRejectsBadInputLocally(t *testing.T) {
	e := newEnv(t, 2)
	for _, nu := range []NewUser{
		{ID: "bad/slash"}, {ID: " lead"}, {ID: ".."}, {ID: strings.Repeat("a", 65)},
		{ID: "ok", Email: "not an email"}, {ID: "ok", Quota: "lots"}, {ID: "ok", Language: "EN!"},
		{ID: "ok", Groups: []string{""}},
	} {
		asError(t, e.c.CreateUser(context.Background(), nu), ErrInvalid)
	}
	if n := e.fake.Requests(ocsfake.RouteCreateUser); n != 0 {
		t.Fatalf("invalid input reached the server %d times", n)
	}
}

func TestCreateUserPermissions(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v, func(c *Config) { c.User, c.AppPassword = "lead", "lead-app-password" })
		e.fake.AddAccount("lead", "lead-app-password", false)
		e.fake.AddSubAdmin("lead", "team")
		ctx := context.Background()
		if err := e.c.CreateUser(ctx, NewUser{ID: "new1", Groups: []string{"team"}}); err != nil {
			t.Fatalf("group admin creating in own group: %v", err)
		}
		asError(t, e.c.CreateUser(ctx, NewUser{ID: "new2"}), ErrUnauthorized)
		e.fake.AddGroup("other")
		asError(t, e.c.CreateUser(ctx, NewUser{ID: "new3", Groups: []string{"other"}}), ErrUnauthorized)
	})
}

func TestCreateUserCrashHealsViaGetUser(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v)
		ctx := context.Background()
		e.fake.CrashAfterCreate(1)
		err := e.c.CreateUser(ctx, NewUser{ID: "ghost"})
		asError(t, err, ErrUnreachable)
		if n := e.fake.Requests(ocsfake.RouteCreateUser); n != 1 {
			t.Fatalf("create retried: %d", n)
		}
		if _, err := e.c.GetUser(ctx, "ghost"); err != nil {
			t.Fatalf("user should exist after the crash: %v", err)
		}
	})
}

func TestEditUser(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v)
		ctx := context.Background()
		e.fake.AddUser(ocsfake.User{ID: "alice"})
		e.fake.AddUser(ocsfake.User{ID: "oidc-user", Backend: ocsfake.BackendOIDC})
		for k, val := range map[string]string{"email": "a@example.org", "quota": "1 GB", "displayname": "Alice A"} {
			if err := e.c.EditUser(ctx, "alice", k, val); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
		}
		if u, _ := e.fake.User("alice"); u.Email != "a@example.org" || u.Quota != "1 GB" || u.DisplayName != "Alice A" {
			t.Fatalf("stored %+v", u)
		}
		pr := asError(t, e.c.EditUser(ctx, "oidc-user", "displayname", "X"), ErrPolicyRejected)
		if pr.OCSStatus != 113 || !strings.Contains(pr.Message, "key not allowed") {
			t.Fatalf("want 113 key not allowed: %v", pr)
		}
		asError(t, e.c.EditUser(ctx, "alice", "shoe_size", "44"), ErrPolicyRejected)
		asError(t, e.c.EditUser(ctx, "alice", "password", "short"), ErrPolicyRejected)
		asError(t, e.c.EditUser(ctx, "alice", "email", "nope"), ErrInvalid)
		asError(t, e.c.EditUser(ctx, "alice", "quota", "lots"), ErrInvalid)
		nf := asError(t, e.c.EditUser(ctx, "nobody", "email", "a@example.org"), ErrNotFound)
		if nf.OCSStatus != 998 {
			t.Fatalf("want 998: %v", nf)
		}
		asError(t, e.c.EditUser(ctx, "alice", "", "x"), ErrInvalid)
	})
}

func TestSetEnabled(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v)
		ctx := context.Background()
		e.fake.AddUser(ocsfake.User{ID: "alice"})
		if err := e.c.SetEnabled(ctx, "alice", false); err != nil {
			t.Fatal(err)
		}
		if u, _ := e.fake.User("alice"); !u.Disabled {
			t.Fatal("not disabled")
		}
		if err := e.c.SetEnabled(ctx, "alice", true); err != nil {
			t.Fatal(err)
		}
		if u, _ := e.fake.User("alice"); u.Disabled {
			t.Fatal("not enabled")
		}
		asError(t, e.c.SetEnabled(ctx, "nobody", false), ErrNotFound)
		asError(t, e.c.SetEnabled(ctx, svcUser, false), ErrInvalid)
		if n := e.fake.Requests(ocsfake.RouteDisableUser); n != 2 {
			t.Fatalf("self-disable should not be sent; disable requests %d", n)
		}
	})
}

func TestSearchUsers(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v)
		ctx := context.Background()
		for _, id := range []string{"q1", "q2", "q3", "q4", "other"} {
			e.fake.AddUser(ocsfake.User{ID: id})
		}
		e.fake.AddUser(ocsfake.User{ID: "x9", DisplayName: "Quinn"})
		all, err := e.c.SearchUsers(ctx, "q", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(all)
		if strings.Join(all, ",") != "q1,q2,q3,q4,x9" {
			t.Fatalf("search: %v", all)
		}
		p1, err1 := e.c.SearchUsers(ctx, "q", 2, 0)
		p2, err2 := e.c.SearchUsers(ctx, "q", 2, 2)
		p3, err3 := e.c.SearchUsers(ctx, "q", 2, 4)
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatal(err)
		}
		got := append(append(append([]string{}, p1...), p2...), p3...)
		sort.Strings(got)
		if len(p1) != 2 || len(p2) != 2 || len(p3) != 1 || strings.Join(got, ",") != "q1,q2,q3,q4,x9" {
			t.Fatalf("pages %v %v %v", p1, p2, p3)
		}
		none, err := e.c.SearchUsers(ctx, "zzz", 10, 0)
		if err != nil || len(none) != 0 {
			t.Fatalf("want empty, got %v %v", none, err)
		}
		_, err = e.c.SearchUsers(ctx, "", 1, -1)
		asError(t, err, ErrInvalid)
	})
}
