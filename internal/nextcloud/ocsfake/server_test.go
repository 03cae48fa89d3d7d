package ocsfake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const (
	admin   = "admin-svc"
	adminPW = "admin-app-password"
)

type resp struct {
	status int
	header http.Header
	body   string
	code   int // ocs.meta.statuscode, -1 when the body is not OCS JSON
	msg    string
	data   json.RawMessage
}

type req struct {
	method, path string
	form         url.Values
	user, pw     string
	noHeader     bool
	noFormat     bool
}

func do(t *testing.T, s *Server, r req) resp {
	t.Helper()
	u := s.URL() + r.path
	if !r.noFormat {
		u += "?format=json"
	}
	var body io.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	}
	hr, err := http.NewRequest(r.method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.form != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if r.user != "" {
		hr.SetBasicAuth(r.user, r.pw)
	}
	if !r.noHeader {
		hr.Header.Set("OCS-APIRequest", "true")
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, header: res.Header, body: string(raw), code: -1}
	var doc struct {
		OCS struct {
			Meta struct {
				StatusCode int    `json:"statuscode"`
				Message    string `json:"message"`
			} `json:"meta"`
			Data json.RawMessage `json:"data"`
		} `json:"ocs"`
	}
	if json.Unmarshal(raw, &doc) == nil && strings.Contains(string(raw), `"ocs"`) {
		out.code, out.msg, out.data = doc.OCS.Meta.StatusCode, doc.OCS.Meta.Message, doc.OCS.Data
	}
	return out
}

func newServer(t *testing.T) *Server {
	s := New()
	t.Cleanup(s.Close)
	s.AddAccount(admin, adminPW, true)
	s.AddUser(User{ID: "alice", Email: "alice@example.org"})
	return s
}

func ocsPath(v int, p string) string {
	return map[int]string{1: "/ocs/v1.php/", 2: "/ocs/v2.php/"}[v] + p
}

func TestFaultInjection(t *testing.T) {
	s := newServer(t)
	get := func() resp {
		return do(t, s, req{method: "GET", path: ocsPath(2, "cloud/users/alice"), user: admin, pw: adminPW})
	}
	s.FailNext(RouteGetUser, 502, 1)
	if r := get(); r.status != 502 || r.code != -1 {
		t.Errorf("FailNext: %d %s", r.status, r.body)
	}
	s.FailNextOCS(RouteGetUser, 996, "boom", 1)
	if r := get(); r.status != 500 || r.code != 996 {
		t.Errorf("FailNextOCS: %d %d", r.status, r.code)
	}
	s.SetRateLimited(true)
	if r := get(); r.status != 429 || r.header.Get("Retry-After") != "30" {
		t.Errorf("rate limit: %d %v", r.status, r.header)
	}
	s.SetRateLimited(false)
	if r := get(); r.status != 200 {
		t.Errorf("recovered: %d", r.status)
	}
	if n := s.Requests(RouteGetUser); n != 4 {
		t.Errorf("requests %d", n)
	}
	s.CrashAfterCreate(1)
	hr, _ := http.NewRequest("POST", s.URL()+ocsPath(2, "cloud/users")+"?format=json",
		strings.NewReader(url.Values{"userid": {"crash"}, "password": {"Str0ng!Passw0rd"}}.Encode()))
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hr.Header.Set("OCS-APIRequest", "true")
	hr.SetBasicAuth(admin, adminPW)
	if res, err := http.DefaultClient.Do(hr); err == nil {
		res.Body.Close()
		t.Fatal("want dropped connection")
	}
	if _, ok := s.User("crash"); !ok {
		t.Fatal("crash must happen after the user is stored")
	}
}
