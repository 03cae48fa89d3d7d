package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestEveryPageRenders(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.accts["alice"])
	for path, want := range map[string]string{
		"/admin":           "<h1>Dashboard</h1>",
		"/admin/":          "<h1>Dashboard</h1>",
		"/admin/mappings":  "<h1>Mappings</h1>",
		"/admin/invites":   "<h1>Invites</h1>",
		"/admin/allowlist": "<h1>Allowlist</h1>",
		"/admin/campaigns": "<h1>Onboarding campaigns</h1>",
		"/admin/policy":    "<h1>Login policy</h1>",
		"/admin/audit":     "<h1>Audit log</h1>",
	} {
		p := b.get(path)
		if p.status != http.StatusOK || !strings.Contains(p.body, want) || !strings.Contains(p.body, `name="csrf"`) {
			t.Errorf("GET %s = %d, want 200 with %q and a sign-out form", path, p.status, want)
		}
		if strings.Contains(p.body, "<no value>") || strings.Contains(p.body, "ZgotmplZ") {
			t.Errorf("GET %s rendered a template fault", path)
		}
	}
}

func TestDashboardCountsPolicyHealth(t *testing.T) {
	e := newEnv(t)
	node := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/blocks/height" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("1234567"))
	}))
	defer node.Close()
	e.h.qortalNode = node.URL
	for i, a := range []string{"bob", "chloe"} {
		if _, err := e.h.d.Provision.Link(t.Context(), "admin:test", e.accts[a].Address, []string{"dave", "erin"}[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.h.d.Provision.SetStatus(t.Context(), "admin:test", e.accts["chloe"].Address, "blocked"); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	d := b.signIn(e.accts["alice"])
	for _, want := range []string{
		`data-state="linked">1<`, `data-state="blocked">1<`, `data-state="total">2<`,
		`id="policy-mode">link_only<`, `id="policy-guard">none<`,
		"service account admin accepted", "block height 1234567", "answering",
	} {
		if !strings.Contains(d.body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if strings.Count(d.body, `class="health-ok"`) != 3 {
		t.Errorf("want store, Nextcloud and node healthy:\n%s", d.body)
	}

	// Outages show as such, with the reason, and the page still renders.
	node.Close()
	e.nc.Close()
	d = b.get("/admin/")
	if d.status != http.StatusOK || strings.Count(d.body, `class="health-down"`) != 2 {
		t.Errorf("dashboard with Nextcloud and node down = %d:\n%s", d.status, d.body)
	}
}
