package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestPolicyChangeAudited(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	admin := e.accts["alice"]
	b.signIn(admin)

	p := b.get("/admin/policy")
	if p.status != http.StatusOK || !strings.Contains(p.body, "From the configuration file") {
		t.Fatalf("policy page = %d:\n%s", p.status, p.body)
	}
	r := b.post("/admin/policy", p, url.Values{"mode": {"auto_provision"}, "guard": {"invite_or_allowlist"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("set = %d:\n%s", r.status, r.body)
	}
	cur, err := e.h.d.Policy.Current(t.Context())
	if err != nil || cur.Mode != "auto_provision" || cur.Guard != "invite_or_allowlist" || cur.UpdatedBy != "admin:"+admin.Address {
		t.Fatalf("policy = %+v, %v", cur, err)
	}
	a := e.lastAudit()
	if a.Action != "policy.set" || a.Actor != "admin:"+admin.Address ||
		!strings.Contains(a.Detail, `"previousMode":"link_only"`) || !strings.Contains(a.Detail, `"guard":"invite_or_allowlist"`) {
		t.Errorf("audit = %+v", a)
	}
	p = b.get(r.location)
	if !strings.Contains(p.body, `id="policy-mode">auto_provision<`) || !strings.Contains(p.body, "Set in the console by") {
		t.Errorf("policy page after set:\n%s", p.body)
	}
	if r := b.post("/admin/policy", p, url.Values{"mode": {"open_door"}, "guard": {"none"}}); r.status != http.StatusBadRequest ||
		!strings.Contains(r.body, "mode must be link_only, auto_provision or standalone") {
		t.Errorf("invalid mode = %d", r.status)
	}
	if r := b.post("/admin/policy/reset", p, nil); r.status != http.StatusSeeOther {
		t.Fatalf("reset = %d", r.status)
	}
	if cur, _ := e.h.d.Policy.Current(t.Context()); cur.Source != "config" {
		t.Errorf("after reset the source is %q", cur.Source)
	}
	if a := e.lastAudit(); a.Action != "policy.clear" || a.Actor != "admin:"+admin.Address {
		t.Errorf("audit = %+v", a)
	}
}
