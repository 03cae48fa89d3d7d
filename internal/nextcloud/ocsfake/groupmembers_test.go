package ocsfake

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

func getGroupUsersRaw(t *testing.T, s *Server, user, pass, gid string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/ocs/v2.php/cloud/groups/"+gid+"/users?format=json", nil)
	req.SetBasicAuth(user, pass)
	req.Header.Set("OCS-APIRequest", "true")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("not JSON: %s", raw)
	}
	return res.StatusCode, doc["ocs"].(map[string]any)
}

func TestGetGroupUsersMirrorsGroupsController(t *testing.T) {
	s := New()
	defer s.Close()
	s.AddAccount("admin", "pw", true)
	s.AddAccount("sub", "pw", false)
	s.AddUser(User{ID: "zoe", Groups: []string{"g"}})
	s.AddUser(User{ID: "amy", Groups: []string{"g"}})
	s.AddSubAdmin("sub", "g")
	s.AddGroup("other")

	status, ocs := getGroupUsersRaw(t, s, "admin", "pw", "g")
	users := ocs["data"].(map[string]any)["users"].([]any)
	if status != 200 || len(users) != 2 || users[0] != "amy" {
		t.Fatalf("admin: %d %v", status, ocs)
	}
	if status, _ := getGroupUsersRaw(t, s, "sub", "pw", "g"); status != 200 {
		t.Fatalf("sub-admin of g: %d", status)
	}
	if status, _ := getGroupUsersRaw(t, s, "sub", "pw", "other"); status != 403 {
		t.Fatalf("sub-admin of another group: %d, want 403", status)
	}
	status, ocs = getGroupUsersRaw(t, s, "admin", "pw", "missing")
	if status != 404 || ocs["meta"].(map[string]any)["statuscode"] != 404.0 {
		t.Fatalf("missing group: %d %v", status, ocs)
	}
	if s.Requests(RouteGroupUsers) != 4 {
		t.Fatalf("requests counted: %d", s.Requests(RouteGroupUsers))
	}
}
