package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/onboarding"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func TestCampaignStartStatusResend(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	admin := e.accts["alice"]
	b.signIn(admin)

	p := b.get("/admin/campaigns")
	if p.status != http.StatusOK || !strings.Contains(p.body, "No campaign yet") {
		t.Fatalf("campaigns page = %d", p.status)
	}
	// Failures are explained: no selector, e-mail without SMTP, unknown group.
	for _, tc := range []struct {
		form   url.Values
		status int
		msg    string
	}{
		{url.Values{"channel": {"notification"}}, http.StatusBadRequest, "choose how to select the users"},
		{url.Values{"target": {"group"}, "group": {"staff"}, "channel": {"email"}}, http.StatusBadRequest, "e-mail needs an SMTP relay"},
		{url.Values{"target": {"group"}, "group": {"nope"}, "channel": {"notification"}}, http.StatusNotFound, "group &#34;nope&#34; does not exist"},
	} {
		r := b.post("/admin/campaigns", p, tc.form)
		if r.status != tc.status || !strings.Contains(r.body, tc.msg) {
			t.Errorf("start %v = %d, want %d %q:\n%s", tc.form, r.status, tc.status, tc.msg, r.body)
		}
	}

	// Text left in the unused selector fields does not matter.
	r := b.post("/admin/campaigns", p, url.Values{"target": {"group"}, "group": {"staff"}, "userIds": {"erin"},
		"channel": {"notification"}, "days": {"3"}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/admin/campaigns/cmp_") {
		t.Fatalf("start = %d to %q:\n%s", r.status, r.location, r.body)
	}
	id := strings.TrimPrefix(r.location, "/admin/campaigns/")
	if a := e.lastAudit(); a.Action != "campaign.create" || a.Actor != "admin:"+admin.Address || a.Subject != id {
		t.Errorf("audit = %+v", a)
	}
	c, _ := e.store.GetCampaign(t.Context(), id)
	if c.InviteTTL != 72*time.Hour {
		t.Errorf("invite TTL = %s, want 72h", c.InviteTTL)
	}
	status := b.get(r.location)
	if !strings.Contains(status.body, "Started campaign "+id+" for 2 users") ||
		!strings.Contains(status.body, `data-state="not_started">2<`) || !strings.Contains(status.body, `data-user="carol"`) {
		t.Fatalf("campaign page after start:\n%s", status.body)
	}

	// The worker delivers; the page shows the progress.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- e.h.d.Onboarding.Worker(onboarding.WorkerOptions{Interval: time.Millisecond, Poll: 5 * time.Millisecond}).Run(ctx)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := e.store.GetCampaign(t.Context(), id)
		if err == nil && c.Counts[store.TargetInvited] == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("targets not invited in time: %+v, %v", c.Counts, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if n := e.nc.Notifications("carol"); len(n) != 1 || !strings.Contains(n[0].Long, e.srv.URL+"/onboard/") {
		t.Errorf("carol's notifications = %+v", n)
	}
	status = b.get(r.location)
	if !strings.Contains(status.body, `data-state="invited">2<`) || !strings.Contains(status.body, `id="resendable">2<`) {
		t.Fatalf("campaign page after delivery:\n%s", status.body)
	}
	if f := b.get(r.location + "?state=failed"); !strings.Contains(f.body, "No user in state failed") {
		t.Errorf("state filter:\n%s", f.body)
	}

	// Resend one, then the rest.
	one := b.post(r.location+"/resend", status, url.Values{"userId": {"carol"}})
	if one.status != http.StatusSeeOther {
		t.Fatalf("resend one = %d:\n%s", one.status, one.body)
	}
	if p := b.get(one.location); !strings.Contains(p.body, "Queued 1 new invites") || !strings.Contains(p.body, `data-state="not_started">1<`) {
		t.Errorf("after resending one:\n%s", p.body)
	}
	if a := e.lastAudit(); a.Action != "campaign.resend" || a.Actor != "admin:"+admin.Address {
		t.Errorf("audit = %+v", a)
	}
	all := b.post(r.location+"/resend", status, nil)
	if p := b.get(all.location); !strings.Contains(p.body, "Queued 1 new invites") || !strings.Contains(p.body, `data-state="not_started">2<`) {
		t.Errorf("after resending the rest:\n%s", p.body)
	}
	if p := b.get("/admin/campaigns"); !strings.Contains(p.body, id) || !strings.Contains(p.body, `members of group &#34;staff&#34; (2)`) {
		t.Errorf("campaign list:\n%s", p.body)
	}
	if p := b.get("/admin/campaigns/cmp_nope"); p.status != http.StatusNotFound {
		t.Errorf("unknown campaign = %d", p.status)
	}
}
