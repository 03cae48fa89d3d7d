package ocsfake

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestUserDataShape(t *testing.T) {
	s := newServer(t)
	got := do(t, s, req{method: "GET", path: ocsPath(2, "cloud/users/alice"), user: admin, pw: adminPW})
	var d map[string]any
	if err := json.Unmarshal(got.data, &d); err != nil {
		t.Fatal(err)
	}
	if d["id"] != "alice" || d["email"] != "alice@example.org" || d["enabled"] != true || d["displayname"] != "alice" {
		t.Fatalf("%v", d)
	}
	if q, _ := d["quota"].(map[string]any); q["quota"] != float64(-3) {
		t.Fatalf("quota %v", d["quota"])
	}
	self := do(t, s, req{method: "GET", path: ocsPath(2, "cloud/user"), user: admin, pw: adminPW})
	if !strings.Contains(string(self.data), `"id":"admin-svc"`) {
		t.Fatalf("cloud/user: %s", self.data)
	}
}

func TestCreateCodes(t *testing.T) {
	s := newServer(t)
	post := func(f url.Values) resp {
		return do(t, s, req{method: "POST", path: ocsPath(1, "cloud/users"), user: admin, pw: adminPW, form: f})
	}
	strong := "Str0ng!Passw0rd"
	cases := []struct {
		form url.Values
		code int
	}{
		{url.Values{"userid": {"bad/id"}, "password": {strong}}, 101},
		{url.Values{"userid": {"new"}, "password": {strings.Repeat("A1!a", 118)}}, 101},
		{url.Values{"userid": {"new"}, "password": {strong}, "groups[]": {"ghosts"}}, 104},
		{url.Values{"userid": {"new"}, "password": {"short"}}, 107},
		{url.Values{"userid": {"new"}}, 108},
		{url.Values{"userid": {"new"}, "password": {strong}}, 100},
		{url.Values{"userid": {"new"}, "password": {strong}}, 102},
		{url.Values{"userid": {"q"}, "password": {strong}, "quota": {"lots"}}, 102},
	}
	for i, tc := range cases {
		if got := post(tc.form); got.code != tc.code {
			t.Errorf("case %d: got %d (%s), want %d", i, got.code, got.msg, tc.code)
		}
	}
	if _, ok := s.User("q"); !ok {
		t.Error("invalid quota must leave the created user behind, as addUser does")
	}
	s.RequireEmail(true)
	if got := post(url.Values{"userid": {"e"}, "password": {strong}}); got.code != 110 {
		t.Errorf("want 110, got %d", got.code)
	}
	if s.CreateCount() != 2 {
		t.Errorf("creates %d", s.CreateCount())
	}
}
