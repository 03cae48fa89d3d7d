package server

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode/nodefake"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

func withNode(n *nodefake.Node) func(*config.Config) {
	return func(c *config.Config) {
		c.Qortal.NodeURL = n.URL()
		c.Qortal.APIKey = n.APIKey
		c.QApps.Origin = "http://localhost:1"
	}
}

// The admin API approves an app pinned to the node's newest version, shows
// "update available" after a republish, moves the pin only when asked, and
// audits every change.
func TestQAppsAdminAPI(t *testing.T) {
	t.Parallel()
	node := nodefake.New()
	t.Cleanup(node.Close)
	v1 := node.Publish("APP", "Fixture", "", "Fixture app", nodefake.FixtureApp())
	b := newBroker(t, storetest.Open(t, storetest.SQLite), newFakeNextcloud(t), withNode(node))

	r := b.do(http.MethodPost, "/api/qapps", map[string]any{"service": "APP", "name": "Fixture", "title": "<b>Fix</b>", "groups": []string{"staff"}, "actions": []string{"SIGN_TRANSACTION"}})
	if r.Status != http.StatusCreated || r.Body["pinnedSignature"] != v1 || r.Body["updateAvailable"] != false || r.Body["title"] != "<b>Fix</b>" {
		t.Fatalf("create = %d %s", r.Status, r.Raw)
	}
	id := r.Body["id"].(string)
	if !strings.HasSuffix(r.Body["launchUrl"].(string), "/app/"+id+"/") {
		t.Errorf("launchUrl = %v", r.Body["launchUrl"])
	}
	for _, c := range []struct {
		body map[string]any
		code string
		st   int
	}{
		{map[string]any{"service": "APP", "name": "fixture"}, "qapp_exists", 409},
		{map[string]any{"service": "IMAGE", "name": "Fixture"}, "invalid_service", 400},
		{map[string]any{"service": "APP", "name": "../etc"}, "invalid_name", 400},
		{map[string]any{"service": "APP", "name": "Nobody"}, "not_published", 422},
		{map[string]any{"service": "APP", "name": "Fixture", "identifier": "x", "actions": []string{"DELETE_EVERYTHING"}}, "unknown_action", 400},
	} {
		if r := b.do(http.MethodPost, "/api/qapps", c.body); r.Status != c.st || r.errCode() != c.code {
			t.Errorf("create %v = %d %s, want %d %s", c.body, r.Status, r.Raw, c.st, c.code)
		}
	}

	v2 := node.Publish("APP", "Fixture", "", "Fixture app", map[string][]byte{"index.html": []byte("<html><head></head>v2</html>")})
	r = b.do(http.MethodGet, "/api/qapps", nil)
	apps := r.Body["apps"].([]any)
	if len(apps) != 1 {
		t.Fatalf("list = %s", r.Raw)
	}
	app := apps[0].(map[string]any)
	if app["updateAvailable"] != true || app["latestSignature"] != v2 || app["pinnedSignature"] != v1 {
		t.Errorf("after republish = %v", app)
	}
	r = b.do(http.MethodPut, "/api/qapps/"+id, map[string]any{"groups": []string{}, "disabled": true})
	if r.Status != 200 || r.Body["disabled"] != true || len(r.Body["groups"].([]any)) != 0 || r.Body["pinnedSignature"] != v1 {
		t.Errorf("update = %d %s", r.Status, r.Raw)
	}
	if r := b.do(http.MethodPut, "/api/qapps/"+id, map[string]any{"name": "Other"}); r.Status != 400 || r.errCode() != "immutable_field" {
		t.Errorf("rename = %d %s", r.Status, r.Raw)
	}
	r = b.do(http.MethodPost, "/api/qapps/"+id+"/pin", nil)
	if r.Status != 200 || r.Body["pinnedSignature"] != v2 || r.Body["updateAvailable"] != false {
		t.Errorf("pin = %d %s", r.Status, r.Raw)
	}
	node.SetDown(true)
	if r := b.do(http.MethodPost, "/api/qapps/"+id+"/pin", nil); r.Status != 502 || r.errCode() != "qortal_node_unavailable" {
		t.Errorf("pin with the node down = %d %s", r.Status, r.Raw)
	}
	if r := b.do(http.MethodGet, "/api/qapps/"+id, nil); r.Status != 200 || r.Body["nodeError"] == nil {
		t.Errorf("get with the node down = %d %s, want 200 with nodeError", r.Status, r.Raw)
	}
	node.SetDown(false)
	if r := b.do(http.MethodDelete, "/api/qapps/"+id, nil); r.Status != 200 {
		t.Errorf("delete = %d %s", r.Status, r.Raw)
	}
	if r := b.do(http.MethodDelete, "/api/qapps/"+id, nil); r.Status != 404 || r.errCode() != "qapp_not_found" {
		t.Errorf("delete twice = %d %s", r.Status, r.Raw)
	}
	if r := b.do(http.MethodGet, "/api/qapps", nil, "Authorization", ""); r.Status != 401 {
		t.Errorf("anonymous list = %d", r.Status)
	}
	r = b.do(http.MethodGet, "/api/audit?limit=20", nil)
	var actions []string
	for _, e := range r.Body["entries"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	if got := strings.Join(actions, ","); !strings.HasPrefix(got, "qapp.delete,qapp.pin,qapp.update,qapp.create") {
		t.Errorf("audit = %s", got)
	}
}

// The gateway answers for its own Host on the main listener, and is a
// registered confidential client of the broker.
func TestQAppsGatewayByHost(t *testing.T) {
	t.Parallel()
	node := nodefake.New()
	t.Cleanup(node.Close)
	b := newBroker(t, storetest.Open(t, storetest.SQLite), newFakeNextcloud(t), withNode(node))
	req, _ := http.NewRequest(http.MethodGet, b.http.URL+"/", nil)
	req.Host = "localhost:1"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'self'") {
		t.Errorf("gateway host / = %d %s", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
	req, _ = http.NewRequest(http.MethodGet, b.http.URL+"/.well-known/openid-configuration", nil)
	req.Host = "localhost:1"
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("broker discovery on the gateway host = %v, %v; want 404", res.StatusCode, err)
	}
	if r := b.do(http.MethodGet, "/.well-known/openid-configuration", nil); r.Status != http.StatusOK {
		t.Errorf("broker discovery = %d", r.Status)
	}
	c, err := b.store.GetClient(t.Context(), "qortal-oidc-qapps")
	if err != nil || c.Public || len(c.RedirectURIs) != 1 || c.RedirectURIs[0] != "http://localhost:1/auth/callback" {
		t.Errorf("gateway client = %+v, %v", c, err)
	}
}

// The admin API's re-pin and delete drop the cached files of the version
// no app pins any more (qapps.cache_dir), and the removal is logged.
func TestQAppsCacheFollowsTheCatalog(t *testing.T) {
	t.Parallel()
	node := nodefake.New()
	t.Cleanup(node.Close)
	v1 := node.Publish("APP", "Fixture", "", "Fixture app", nodefake.FixtureApp())
	cacheDir := t.TempDir()
	b := newBroker(t, storetest.Open(t, storetest.SQLite), newFakeNextcloud(t), withNode(node), func(c *config.Config) { c.QApps.CacheDir = cacheDir })
	r := b.do(http.MethodPost, "/api/qapps", map[string]any{"service": "APP", "name": "Fixture"})
	if r.Status != http.StatusCreated {
		t.Fatalf("create = %d %s", r.Status, r.Raw)
	}
	id := r.Body["id"].(string)
	cached := func(sig string) string {
		p := filepath.Join(cacheDir, sig, "0123456789abcdef0123456789abcdef.body")
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("cached"), 0o600); err != nil {
			t.Fatal(err)
		}
		return filepath.Dir(p)
	}
	gone := func(dir string) bool { _, err := os.Lstat(dir); return errors.Is(err, os.ErrNotExist) }
	d1 := cached(v1)
	v2 := node.Publish("APP", "Fixture", "", "Fixture app", map[string][]byte{"index.html": []byte("<html><head></head>v2</html>")})
	if r := b.do(http.MethodPost, "/api/qapps/"+id+"/pin", nil); r.Status != 200 || r.Body["pinnedSignature"] != v2 {
		t.Fatalf("pin = %d %s", r.Status, r.Raw)
	}
	if !gone(d1) {
		t.Error("the re-pin left the old version's files")
	}
	d2 := cached(v2)
	if r := b.do(http.MethodDelete, "/api/qapps/"+id, nil); r.Status != 200 {
		t.Fatalf("delete = %d %s", r.Status, r.Raw)
	}
	if !gone(d2) {
		t.Error("the delete left the app's files")
	}
	if logs := b.logs.String(); !strings.Contains(logs, "removed a version") || !strings.Contains(logs, v1) || !strings.Contains(logs, v2) {
		t.Errorf("removals not logged:\n%s", logs)
	}
}
