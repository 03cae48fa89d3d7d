package ocsfake

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestStatusMapping checks V1Response/V2Response behaviour: v1 keeps HTTP 200
// (except 997) and reports 100 for success, v2 passes codes on, mapping 997,
// 998 and sub-200 codes.
func TestStatusMapping(t *testing.T) {
	s := newServer(t)
	s.AddAccount("plain", "plain-pw", false)
	auth := func(r req) req { r.user, r.pw = admin, adminPW; return r }
	cases := []struct {
		name     string
		r        req
		v1, v2   [2]int // {HTTP, statuscode}
		wantData string
	}{
		{"success", auth(req{method: "GET", path: "cloud/users/alice"}), [2]int{200, 100}, [2]int{200, 200}, ""},
		{"missing user is OCSNotFoundException", auth(req{method: "GET", path: "cloud/users/nobody"}), [2]int{200, 404}, [2]int{404, 404}, ""},
		{"user exists", auth(req{method: "POST", path: "cloud/users", form: url.Values{"userid": {"alice"}}}), [2]int{200, 102}, [2]int{400, 102}, "[]"},
		{"not logged in", req{method: "GET", path: "cloud/user"}, [2]int{401, 997}, [2]int{401, 997}, ""},
		{"admin only", req{method: "POST", path: "cloud/groups", user: "plain", pw: "plain-pw", form: url.Values{"groupid": {"x"}}}, [2]int{200, 403}, [2]int{403, 403}, ""},
		{"invisible user", req{method: "GET", path: "cloud/users/alice", user: "plain", pw: "plain-pw"}, [2]int{200, 998}, [2]int{404, 998}, ""},
		{"unknown route", auth(req{method: "GET", path: "cloud/nothing"}), [2]int{200, 998}, [2]int{404, 998}, ""},
		{"empty success data is []", auth(req{method: "POST", path: "cloud/groups", form: url.Values{"groupid": {"fresh"}}}), [2]int{200, 100}, [2]int{200, 200}, "[]"},
	}
	for _, tc := range cases {
		for _, v := range []int{1, 2} {
			r := tc.r
			r.path = ocsPath(v, r.path)
			if tc.name == "empty success data is []" {
				r.form = url.Values{"groupid": {"fresh-v" + string(rune('0'+v))}}
			}
			got := do(t, s, r)
			want := map[int][2]int{1: tc.v1, 2: tc.v2}[v]
			if got.status != want[0] || got.code != want[1] {
				t.Errorf("%s v%d: got HTTP %d OCS %d, want %v (%s)", tc.name, v, got.status, got.code, want, got.body)
			}
			if tc.wantData != "" && string(got.data) != tc.wantData {
				t.Errorf("%s v%d: data %s", tc.name, v, got.data)
			}
		}
	}
}

func TestBadCredentialsAnswerXML401(t *testing.T) {
	s := newServer(t)
	for _, v := range []int{1, 2} {
		got := do(t, s, req{method: "GET", path: ocsPath(v, "cloud/user"), user: admin, pw: "wrong"})
		if got.status != 401 || !strings.HasPrefix(got.body, "<?xml") || !strings.Contains(got.body, "<statuscode>997</statuscode>") {
			t.Errorf("v%d: %d %s", v, got.status, got.body)
		}
		if !strings.Contains(got.header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("v%d: no WWW-Authenticate", v)
		}
	}
}

func TestCSRFWithoutOCSHeader(t *testing.T) {
	s := newServer(t)
	got := do(t, s, req{method: "GET", path: ocsPath(2, "cloud/user"), user: admin, pw: adminPW, noHeader: true})
	if got.status != http.StatusPreconditionFailed || strings.TrimSpace(got.body) != `{"message":"CSRF check failed"}` {
		t.Fatalf("%d %s", got.status, got.body)
	}
}

func TestXMLWithoutFormat(t *testing.T) {
	s := newServer(t)
	got := do(t, s, req{method: "GET", path: ocsPath(2, "cloud/users/alice"), user: admin, pw: adminPW, noFormat: true})
	if got.status != 200 || !strings.Contains(got.header.Get("Content-Type"), "xml") || !strings.Contains(got.body, "<id>alice</id>") {
		t.Fatalf("%d %s", got.status, got.body)
	}
}
