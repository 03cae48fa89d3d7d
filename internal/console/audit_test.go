package console

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func TestAuditNewestFirstPaged(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		if err := e.store.AppendAudit(t.Context(), store.AuditEntry{Actor: "system", Action: fmt.Sprintf("test.event%d", i), Subject: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	b := e.browser()
	b.signIn(e.accts["alice"]) // the sign-in is the newest entry
	e.h.pageSize = 4
	p := b.get("/admin/audit")
	first, sign := strings.Index(p.body, "admin.signin"), strings.Index(p.body, "test.event4")
	if p.status != http.StatusOK || first < 0 || sign < 0 || first > sign || strings.Contains(p.body, "test.event1") {
		t.Fatalf("first page is not the 4 newest, newest first:\n%s", p.body)
	}
	next := strings.ReplaceAll(find(t, pagerNextRE, p, "next page link"), "&amp;", "&")
	p2 := b.get(next)
	if !strings.Contains(p2.body, "test.event1") || !strings.Contains(p2.body, "test.event0") || strings.Contains(p2.body, "test.event4") {
		t.Errorf("second page:\n%s", p2.body)
	}
	if f := b.get("/admin/audit?q=event3"); !strings.Contains(f.body, "test.event3") || strings.Contains(f.body, "test.event2") {
		t.Errorf("filter:\n%s", f.body)
	}
	if bad := b.get("/admin/audit?cursor=nonsense"); bad.status != http.StatusBadRequest {
		t.Errorf("bad cursor = %d", bad.status)
	}
}
