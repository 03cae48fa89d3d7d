package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/qapps"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode/nodefake"
)

func TestQAppsPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.accts["alice"])
	if p := b.get("/admin/qapps"); p.status != http.StatusOK || !strings.Contains(p.body, "gateway is off") {
		t.Fatalf("qapps page without the gateway = %d", p.status)
	}
	node := nodefake.New()
	t.Cleanup(node.Close)
	v1 := node.Publish("APP", "Fixture", "", "Fixture <i>app</i>", nodefake.FixtureApp())
	nc, _ := qortalnode.New(node.URL(), node.APIKey, nil)
	e.h.d.QApps, e.h.d.QAppsOrigin = qapps.NewCatalog(e.store, nc), "https://qapps.example.org"

	p := b.get("/admin/qapps?q=fix&service=APP")
	if p.status != http.StatusOK || !strings.Contains(p.body, "Fixture &lt;i&gt;app&lt;/i&gt;") || !strings.Contains(p.body, ">Approve</button>") {
		t.Fatalf("search = %d:\n%s", p.status, p.body)
	}
	r := b.post("/admin/qapps", p, url.Values{"service": {"APP"}, "name": {"Fixture"}, "identifier": {""}, "title": {"Fixture <i>app</i>"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("approve = %d:\n%s", r.status, r.body)
	}
	apps, _ := e.store.ListQApps(t.Context())
	if len(apps) != 1 || apps[0].PinnedSignature != v1 {
		t.Fatalf("catalog = %+v", apps)
	}
	id := apps[0].ID
	if a := e.lastAudit(); a.Action != "qapp.create" || a.Actor != "admin:"+e.accts["alice"].Address {
		t.Errorf("audit = %+v", a)
	}
	p = b.get("/admin/qapps?q=fix")
	if !strings.Contains(p.body, `<span class="pill">approved</span>`) || !strings.Contains(p.body, "https://qapps.example.org/app/"+id+"/") ||
		strings.Contains(p.body, "<i>app</i>") {
		t.Errorf("page after approve:\n%s", p.body)
	}
	v2 := node.Publish("APP", "Fixture", "", "Fixture", map[string][]byte{"index.html": []byte("<html><head></head>v2</html>")})
	p = b.get("/admin/qapps")
	if !strings.Contains(p.body, "update available") {
		t.Errorf("no update available after a republish:\n%s", p.body)
	}
	if r := b.post("/admin/qapps/"+id+"/pin", p, nil); r.status != http.StatusSeeOther {
		t.Fatalf("pin = %d:\n%s", r.status, r.body)
	}
	if a, _ := e.store.GetQApp(t.Context(), id); a.PinnedSignature != v2 {
		t.Errorf("pinned = %s, want %s", a.PinnedSignature, v2)
	}
	p = b.get("/admin/qapps")
	r = b.post("/admin/qapps/"+id, p, url.Values{"title": {"Mail"}, "groups": {"staff, ops"}, "actions": {"SIGN_TRANSACTION"}, "disabled": {"on"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("edit = %d:\n%s", r.status, r.body)
	}
	a, _ := e.store.GetQApp(t.Context(), id)
	if a.Title != "Mail" || strings.Join(a.Groups, ",") != "ops,staff" || strings.Join(a.Actions, ",") != "SIGN_TRANSACTION" || !a.Disabled {
		t.Errorf("after edit = %+v", a)
	}
	p = b.get("/admin/qapps")
	if r := b.post("/admin/qapps/"+id, p, url.Values{"title": {"Mail"}, "actions": {"FORMAT_DISK"}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, "unknown") {
		t.Errorf("unknown action = %d", r.status)
	}
	p = b.get("/admin/qapps")
	if !strings.Contains(p.body, "php occ config:app:set external sites") {
		t.Errorf("no External sites commands:\n%s", p.body)
	}
	if r := b.post("/admin/qapps/"+id+"/delete", p, nil); r.status != http.StatusSeeOther {
		t.Fatalf("delete = %d", r.status)
	}
	if apps, _ := e.store.ListQApps(t.Context()); len(apps) != 0 {
		t.Errorf("catalog after delete = %+v", apps)
	}
}
