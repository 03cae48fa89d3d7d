package ocsfake

import (
	"net/url"
	"testing"
)

func TestEditAndGroupCodes(t *testing.T) {
	s := newServer(t)
	s.AddUser(User{ID: "oidc", Backend: BackendOIDC})
	put := func(id, key, value string) int {
		return do(t, s, req{method: "PUT", path: ocsPath(1, "cloud/users/"+id), user: admin, pw: adminPW,
			form: url.Values{"key": {key}, "value": {value}}}).code
	}
	if c := put("oidc", "displayname", "x"); c != 113 {
		t.Errorf("oidc display name: %d", c)
	}
	if c := put("alice", "bogus", "x"); c != 113 {
		t.Errorf("bogus key: %d", c)
	}
	if c := put("nobody", "email", "x@y.org"); c != 998 {
		t.Errorf("missing user: %d", c)
	}
	addTo := func(id, g string) int {
		return do(t, s, req{method: "POST", path: ocsPath(1, "cloud/users/"+id+"/groups"), user: admin, pw: adminPW,
			form: url.Values{"groupid": {g}}}).code
	}
	s.AddGroup("g")
	for _, tc := range []struct {
		id, g string
		code  int
	}{{"alice", "", 101}, {"alice", "nope", 102}, {"nobody", "g", 103}, {"alice", "g", 100}} {
		if c := addTo(tc.id, tc.g); c != tc.code {
			t.Errorf("addToGroup(%q,%q) = %d want %d", tc.id, tc.g, c, tc.code)
		}
	}
	mk := func(g string) int {
		return do(t, s, req{method: "POST", path: ocsPath(1, "cloud/groups"), user: admin, pw: adminPW,
			form: url.Values{"groupid": {g}}}).code
	}
	if a, b, c := mk(""), mk("g"), mk("h"); a != 101 || b != 102 || c != 100 {
		t.Errorf("addGroup codes %d %d %d", a, b, c)
	}
	en := do(t, s, req{method: "PUT", path: ocsPath(1, "cloud/users/"+admin+"/disable"), user: admin, pw: adminPW})
	if en.code != 101 {
		t.Errorf("self disable: %d", en.code)
	}
}

func TestNotificationCodes(t *testing.T) {
	s := newServer(t)
	send := func(v int, id, short string) resp {
		return do(t, s, req{method: "POST", path: ocsPath(v, "apps/notifications/api/v2/admin_notifications/"+id),
			user: admin, pw: adminPW, form: url.Values{"shortMessage": {short}}})
	}
	if r := send(2, "nobody", "hi"); r.status != 404 || r.code != 404 || string(r.data) != "null" {
		t.Errorf("missing user: %d %d %s", r.status, r.code, r.data)
	}
	if r := send(1, "alice", ""); r.status != 200 || r.code != 400 {
		t.Errorf("empty subject v1: %d %d", r.status, r.code)
	}
	if r := send(2, "alice", "hi"); r.code != 200 || len(s.Notifications("alice")) != 1 {
		t.Errorf("send: %d", r.code)
	}
}
