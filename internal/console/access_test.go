package console

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/invite"
)

var inviteLinkRE = regexp.MustCompile(`id="invite-link" type="text" readonly value="([^"]+)"`)

func TestInvitesCreateShowOnceRevoke(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	admin := e.accts["alice"]
	b.signIn(admin)

	p := b.get("/admin/invites")
	if p.status != http.StatusOK {
		t.Fatalf("invites page = %d", p.status)
	}
	created := b.post("/admin/invites", p, url.Values{"userId": {"dave"}, "hours": {"48"}, "note": {"for Dave"}})
	if created.status != http.StatusCreated {
		t.Fatalf("create = %d:\n%s", created.status, created.body)
	}
	link := find(t, inviteLinkRE, created, "invite link")
	token := strings.TrimPrefix(link, e.srv.URL+"/onboard/")
	if !invite.ValidToken(token) {
		t.Fatalf("link %q does not end in a valid token", link)
	}
	inv, err := e.store.GetInviteByTokenHash(t.Context(), invite.HashToken(token))
	if err != nil || inv.NextcloudUserID != "dave" || inv.Note != "for Dave" || inv.CreatedBy != "admin:"+admin.Address ||
		inv.ExpiresAt.Sub(inv.CreatedAt).Hours() != 48 {
		t.Fatalf("stored invite = %+v, %v", inv, err)
	}
	if a := e.lastAudit(); a.Action != "invite.create" || a.Actor != "admin:"+admin.Address {
		t.Errorf("audit = %+v", a)
	}
	// Shown once: the listing has the invite, never the token.
	list := b.get("/admin/invites")
	if !strings.Contains(list.body, `data-invite="`+inv.ID+`"`) || strings.Contains(list.body, token) {
		t.Fatalf("listing after create: has invite %v, has token %v", strings.Contains(list.body, inv.ID), strings.Contains(list.body, token))
	}

	for _, tc := range []struct {
		form   url.Values
		status int
		msg    string
	}{
		{url.Values{"userId": {"nobody"}}, http.StatusNotFound, "does not exist"},
		{url.Values{"hours": {"0"}}, http.StatusBadRequest, "between 1 and"},
	} {
		if p := b.post("/admin/invites", list, tc.form); p.status != tc.status || !strings.Contains(p.body, tc.msg) {
			t.Errorf("create %v = %d, want %d %q", tc.form, p.status, tc.status, tc.msg)
		}
	}

	p = b.post("/admin/invites/revoke", list, url.Values{"id": {inv.ID}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("revoke = %d:\n%s", p.status, p.body)
	}
	if got, _ := e.store.GetInvite(t.Context(), inv.ID); got.RevokedAt == nil {
		t.Error("invite not revoked")
	}
	if a := e.lastAudit(); a.Action != "invite.revoke" || a.Subject != inv.ID {
		t.Errorf("audit = %+v", a)
	}
	if p := b.get(p.location); !strings.Contains(p.body, `state-revoked">revoked`) {
		t.Errorf("revoked invite not shown as revoked:\n%s", p.body)
	}
	if p := b.post("/admin/invites/revoke", list, url.Values{"id": {"inv_nope"}}); p.status != http.StatusNotFound {
		t.Errorf("revoke unknown = %d", p.status)
	}
}

func TestAllowlistAddRemove(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.accts["alice"])
	bob := e.accts["bob"].Address

	p := b.get("/admin/allowlist")
	if p.status != http.StatusOK || !strings.Contains(p.body, "The allowlist is empty") {
		t.Fatalf("allowlist page = %d", p.status)
	}
	if r := b.post("/admin/allowlist", p, url.Values{"address": {bob}, "note": {"contractor"}}); r.status != http.StatusSeeOther {
		t.Fatalf("add = %d:\n%s", r.status, r.body)
	}
	if got, err := e.store.GetAllowlist(t.Context(), bob); err != nil || got.Note != "contractor" {
		t.Fatalf("entry = %+v, %v", got, err)
	}
	if a := e.lastAudit(); a.Action != "allowlist.add" || a.Actor != "admin:"+e.accts["alice"].Address {
		t.Errorf("audit = %+v", a)
	}
	p = b.get("/admin/allowlist")
	if !strings.Contains(p.body, `data-address="`+bob+`"`) {
		t.Errorf("entry not listed")
	}
	if r := b.post("/admin/allowlist", p, url.Values{"address": {bob}}); r.status != http.StatusConflict ||
		!strings.Contains(r.body, "already on the allowlist") {
		t.Errorf("add twice = %d", r.status)
	}
	if r := b.post("/admin/allowlist/remove", p, url.Values{"address": {bob}}); r.status != http.StatusSeeOther {
		t.Fatalf("remove = %d", r.status)
	}
	if _, err := e.store.GetAllowlist(t.Context(), bob); err == nil {
		t.Error("entry still there")
	}
	if r := b.post("/admin/allowlist/remove", p, url.Values{"address": {bob}}); r.status != http.StatusNotFound {
		t.Errorf("remove twice = %d", r.status)
	}
}
