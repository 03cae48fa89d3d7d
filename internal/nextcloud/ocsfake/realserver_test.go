package ocsfake

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// Behaviour seen on a real Nextcloud 30 (see the shared Nextcloud notes,
// last section) that the fake must reproduce.

func TestUserIDsAreCaseInsensitive(t *testing.T) {
	s := newServer(t)
	s.AddUser(User{ID: "bobnc"})
	got := do(t, s, req{method: "GET", path: ocsPath(2, "cloud/users/BOBNC"), user: admin, pw: adminPW})
	var d map[string]any
	if err := json.Unmarshal(got.data, &d); err != nil || got.status != http.StatusOK {
		t.Fatalf("GET cloud/users/BOBNC = %d %s", got.status, got.body)
	}
	if d["id"] != "bobnc" {
		t.Fatalf("id = %v, want the canonical bobnc", d["id"])
	}
	c := do(t, s, req{method: "POST", path: ocsPath(2, "cloud/users"), user: admin, pw: adminPW,
		form: url.Values{"userid": {"BobNC"}, "password": {"Str0ng!Passw0rd"}}})
	if c.code != 102 {
		t.Fatalf("creating a case variant = OCS %d, want 102 exists", c.code)
	}
	if ids := s.Users(); len(ids) != 3 {
		t.Fatalf("users %v", ids)
	}
	if u, ok := s.User("BOBNC"); !ok || u.ID != "bobnc" {
		t.Fatalf("User(BOBNC) = %+v, %v", u, ok)
	}
	if r := do(t, s, req{method: "PUT", path: ocsPath(2, "cloud/users/BobNc/disable"), user: admin, pw: adminPW}); r.code != 200 {
		t.Fatalf("disable by a case variant = %d", r.code)
	}
	if u, _ := s.User("bobnc"); !u.Disabled {
		t.Fatal("not disabled")
	}
}

func TestCreateWithUnknownGroupCreatesNothing(t *testing.T) {
	s := newServer(t)
	r := do(t, s, req{method: "POST", path: ocsPath(2, "cloud/users"), user: admin, pw: adminPW,
		form: url.Values{"userid": {"newbie"}, "password": {"Str0ng!Passw0rd"}, "groups[]": {"newgrp"}}})
	if r.status != http.StatusBadRequest || r.code != 104 || r.msg != "Group newgrp does not exist" {
		t.Fatalf("create with unknown group = HTTP %d OCS %d %q, want 400/104 \"Group newgrp does not exist\"", r.status, r.code, r.msg)
	}
	if _, ok := s.User("newbie"); ok || s.CreateCount() != 0 {
		t.Fatal("a create with an unknown group made the user")
	}
}

func TestMaintenanceMode(t *testing.T) {
	s := newServer(t)
	s.SetMaintenance(true)
	for _, v := range []int{1, 2} {
		r := do(t, s, req{method: "GET", path: ocsPath(v, "cloud/users/alice"), user: admin, pw: adminPW})
		if r.status != http.StatusServiceUnavailable || r.code != 503 {
			t.Fatalf("v%d in maintenance: HTTP %d OCS %d, want 503/503", v, r.status, r.code)
		}
	}
	s.SetMaintenance(false)
	if r := do(t, s, req{method: "GET", path: ocsPath(2, "cloud/users/alice"), user: admin, pw: adminPW}); r.status != http.StatusOK {
		t.Fatalf("after maintenance: %d", r.status)
	}
}

func TestCreateDelay(t *testing.T) {
	s := newServer(t)
	s.SetCreateDelay(150 * time.Millisecond)
	start := time.Now()
	r := do(t, s, req{method: "POST", path: ocsPath(2, "cloud/users"), user: admin, pw: adminPW,
		form: url.Values{"userid": {"slow"}, "password": {"Str0ng!Passw0rd"}}})
	if r.code != 200 || time.Since(start) < 150*time.Millisecond {
		t.Fatalf("create = %d after %s, want 200 after at least the delay", r.code, time.Since(start))
	}
}
