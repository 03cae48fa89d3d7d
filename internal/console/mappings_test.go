package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func TestMappingsLinkBlockUnlink(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	admin := e.accts["alice"]
	chloe := e.accts["chloe"].Address
	b.signIn(admin)
	actor := "admin:" + admin.Address

	m := b.get("/admin/mappings")
	if m.status != http.StatusOK || !strings.Contains(m.body, "No address is linked yet") {
		t.Fatalf("empty mappings page = %d:\n%s", m.status, m.body)
	}
	p := b.post("/admin/mappings/link", m, url.Values{"address": {chloe}, "userId": {"carol"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("link = %d:\n%s", p.status, p.body)
	}
	got, err := e.store.GetMappingByAddress(t.Context(), chloe)
	if err != nil || got.NextcloudUserID != "carol" || got.Status != store.StatusLinked || got.DisplayName != "Carol Example" {
		t.Fatalf("mapping after link = %+v, %v", got, err)
	}
	if a := e.lastAudit(); a.Action != "mapping.create" || a.Actor != actor || a.Subject != chloe {
		t.Errorf("audit = %+v, want mapping.create by %s", a, actor)
	}
	m = b.get(p.location)
	if !strings.Contains(find(t, flashRE, m, "flash"), "Linked "+chloe+" to Nextcloud user carol") {
		t.Errorf("no success message after link:\n%s", m.body)
	}
	if !strings.Contains(m.body, `data-address="`+chloe+`"`) {
		t.Errorf("linked mapping not listed:\n%s", m.body)
	}
	// The flash shows once.
	if again := b.get(p.location); strings.Contains(again.body, `id="flash"`) {
		t.Error("flash message shown twice")
	}

	// Failures show the service's precise message and status.
	for _, tc := range []struct {
		form   url.Values
		status int
		msg    string
	}{
		{url.Values{"address": {chloe}, "userId": {"dave"}}, http.StatusConflict, "is already linked to Nextcloud user &#34;carol&#34;"},
		{url.Values{"address": {e.accts["bob"].Address}, "userId": {"nobody"}}, http.StatusNotFound, "Nextcloud user &#34;nobody&#34; does not exist"},
		{url.Values{"address": {"Qbad"}, "userId": {"dave"}}, http.StatusBadRequest, "is not a valid Qortal address"},
	} {
		p := b.post("/admin/mappings/link", m, tc.form)
		if p.status != tc.status || !strings.Contains(p.body, tc.msg) {
			t.Errorf("link %v = %d, want %d with %q:\n%s", tc.form, p.status, tc.status, tc.msg, find(t, errorRE, p, "error"))
		}
		if !strings.Contains(p.body, `value="`+tc.form.Get("userId")+`"`) {
			t.Errorf("link form not refilled after a failure")
		}
	}

	p = b.post("/admin/mappings/status", m, url.Values{"address": {chloe}, "status": {"blocked"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("block = %d:\n%s", p.status, p.body)
	}
	if got, _ := e.store.GetMappingByAddress(t.Context(), chloe); got.Status != store.StatusBlocked {
		t.Fatalf("status after block = %s", got.Status)
	}
	// The block disables the Nextcloud account too (issue 7 item 5), audited after the status change.
	if a := e.lastAudit(); a.Action != "nextcloud.user_disable" || a.Actor != actor || !strings.Contains(a.Detail, `"carol"`) {
		t.Errorf("audit = %+v", a)
	}
	if u, _ := e.nc.User("carol"); !u.Disabled {
		t.Error("block left the Nextcloud account enabled")
	}
	m = b.get(p.location)
	if !strings.Contains(m.body, ">Unblock</button>") {
		t.Errorf("blocked mapping offers no unblock:\n%s", m.body)
	}
	if p = b.post("/admin/mappings/status", m, url.Values{"address": {chloe}, "status": {"linked"}}); p.status != http.StatusSeeOther {
		t.Fatalf("unblock = %d", p.status)
	}
	if got, _ := e.store.GetMappingByAddress(t.Context(), chloe); got.Status != store.StatusLinked {
		t.Fatalf("status after unblock = %s", got.Status)
	}
	if u, _ := e.nc.User("carol"); u.Disabled {
		t.Error("unblock left the Nextcloud account disabled")
	}
	if p = b.post("/admin/mappings/status", m, url.Values{"address": {chloe}, "status": {"deleted"}}); p.status != http.StatusBadRequest {
		t.Errorf("unknown status = %d, want 400", p.status)
	}

	p = b.post("/admin/mappings/unlink", m, url.Values{"address": {chloe}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("unlink = %d:\n%s", p.status, p.body)
	}
	if _, err := e.store.GetMappingByAddress(t.Context(), chloe); err == nil {
		t.Fatal("mapping still there after unlink")
	}
	if _, ok := e.nc.User("carol"); !ok {
		t.Error("unlink deleted the Nextcloud account")
	}
	if a := e.lastAudit(); a.Action != "mapping.delete" || a.Actor != actor {
		t.Errorf("audit = %+v", a)
	}
	if p = b.post("/admin/mappings/unlink", m, url.Values{"address": {chloe}}); p.status != http.StatusNotFound ||
		!strings.Contains(p.body, "is not linked") {
		t.Errorf("second unlink = %d", p.status)
	}
}

func TestMappingsSearchAndPages(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.accts["alice"])
	for i, a := range []string{"alice", "bob", "chloe"} {
		uid := []string{"carol", "dave", "erin"}[i]
		if _, err := e.h.d.Provision.Link(t.Context(), "admin:test", e.accts[a].Address, uid); err != nil {
			t.Fatal(err)
		}
	}
	p := b.get("/admin/mappings?q=DAVE")
	if !strings.Contains(p.body, e.accts["bob"].Address) || strings.Contains(p.body, e.accts["chloe"].Address) {
		t.Errorf("search for DAVE:\n%s", p.body)
	}
	// Walk every page with the pager's links and find each mapping once.
	e.h.pageSize = 2
	seen := map[string]int{}
	next := "/admin/mappings"
	for next != "" {
		p := b.get(next)
		for _, a := range e.accts {
			if strings.Contains(p.body, `data-address="`+a.Address+`"`) {
				seen[a.Address]++
			}
		}
		next = ""
		if m := pagerNextRE.FindStringSubmatch(p.body); m != nil {
			next = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if len(seen) != 3 || seen[e.accts["alice"].Address] != 1 || seen[e.accts["chloe"].Address] != 1 {
		t.Errorf("pages showed %v, want the 3 mappings", seen)
	}
	if p := b.get("/admin/mappings?cursor=garbage"); p.status != http.StatusBadRequest {
		t.Errorf("bad cursor = %d, want 400", p.status)
	}
}
