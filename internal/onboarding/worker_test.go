package onboarding

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/invite"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

var linkRE = regexp.MustCompile(`https://id\.example\.org/onboard/([A-Za-z0-9_-]{43})`)

func tokenIn(t *testing.T, text string) string {
	t.Helper()
	m := linkRE.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no onboarding link in %q", text)
	}
	return m[1]
}

func TestCampaignDeliversByNotificationAndEmail(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open(t))
		ctx := t.Context()
		e.fake.AddUser(ocsfake.User{ID: "alice", DisplayName: "Alice Liddell", Email: "alice@example.org", Groups: []string{"staff"}})
		e.fake.AddUser(ocsfake.User{ID: "bob", DisplayName: "Bob", Groups: []string{"staff"}}) // no e-mail
		e.fake.AddUser(ocsfake.User{ID: "carol", Email: "carol@example.org", Groups: []string{"staff"}})
		e.fake.AddUser(ocsfake.User{ID: "other", Email: "other@example.org"})
		// carol already has a Qortal address: nothing is sent to her.
		if _, err := e.st.CreateMapping(ctx, store.Mapping{QortalAddress: "Qcarol", NextcloudUserID: "carol", Status: store.StatusLinked},
			store.AuditEntry{Actor: admin}); err != nil {
			t.Fatal(err)
		}
		c, err := e.svc.Start(ctx, admin, StartRequest{Group: "staff", Channels: []string{"notification", "email"}})
		if err != nil {
			t.Fatal(err)
		}
		if c.Counts[store.TargetNotStarted] != 3 || c.Selector != `{"group":"staff"}` {
			t.Fatalf("campaign = %+v", c)
		}
		e.runUntil(t, e.worker("w1"), e.settled(t, c.ID))

		tg := e.targets(t, c.ID)
		if tg["carol"].State != store.TargetLinked || len(e.fake.Notifications("carol")) != 0 {
			t.Errorf("carol (already linked): %+v, notified %d", tg["carol"], len(e.fake.Notifications("carol")))
		}
		if tg["alice"].State != store.TargetInvited || tg["alice"].InviteID == "" || tg["alice"].SentAt == nil || tg["alice"].LastError != "" {
			t.Errorf("alice: %+v", tg["alice"])
		}
		if tg["bob"].State != store.TargetInvited || tg["bob"].LastError != "no e-mail address in Nextcloud" {
			t.Errorf("bob: %+v", tg["bob"])
		}

		notes := e.fake.Notifications("alice")
		if len(notes) != 1 || notes[0].Short != config.DefaultNotificationShort || !strings.Contains(notes[0].Long, "Hello Alice Liddell") {
			t.Fatalf("alice's notifications: %+v", notes)
		}
		token := tokenIn(t, notes[0].Long)
		mails := e.smtp.Messages()
		if len(mails) != 1 {
			t.Fatalf("%d e-mails, want 1 (to alice)", len(mails))
		}
		m := mails[0]
		if fmt.Sprint(m.To) != "[alice@example.org]" || m.Subject != config.DefaultEmailSubject ||
			!strings.Contains(m.Body, "Hello Alice Liddell") || !strings.Contains(m.Body, "(alice)") || !m.TLS {
			t.Fatalf("e-mail: to %v subject %q body %q", m.To, m.Subject, m.Body)
		}
		if tokenIn(t, m.Body) != token {
			t.Fatal("the notification and the e-mail must carry the same invite")
		}
		inv, err := e.st.GetInviteByTokenHash(ctx, invite.HashToken(token))
		if err != nil || inv.ID != tg["alice"].InviteID || inv.NextcloudUserID != "alice" || inv.CampaignID != c.ID {
			t.Fatalf("invite behind the link: %+v, %v", inv, err)
		}
		if want := inv.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"); !strings.Contains(m.Body, want) {
			t.Errorf("the e-mail must state the expiry %s", want)
		}

		// Linking with the invite is what marks the target linked.
		if _, err := e.invites.Consume(ctx, token, "Qalice", "login:Qalice"); err != nil {
			t.Fatal(err)
		}
		got, err := e.st.GetCampaign(ctx, c.ID)
		if err != nil || got.Counts[store.TargetLinked] != 2 || got.Counts[store.TargetInvited] != 1 {
			t.Fatalf("counts after alice linked: %v, %v", got.Counts, err)
		}
	})
}

func TestCampaignTargetsByIDsAndSearch(t *testing.T) {
	e := newEnv(t, storetest.Open(t, storetest.SQLite))
	ctx := t.Context()
	for _, u := range []string{"ann", "andy", "zed"} {
		e.fake.AddUser(ocsfake.User{ID: u, Email: u + "@example.org"})
	}
	c, err := e.svc.Start(ctx, admin, StartRequest{Search: "an", Channels: []string{"email"}})
	if err != nil || c.Counts[store.TargetNotStarted] != 2 {
		t.Fatalf("search campaign: %+v, %v", c, err)
	}
	c2, err := e.svc.Start(ctx, admin, StartRequest{UserIDs: []string{"zed", "ghost", "zed"}, Channels: []string{"email"},
		Templates: Templates{EmailSubject: "Hi {{.UserID}}", EmailBody: "Go to {{.Link}}"}})
	if err != nil || c2.Counts[store.TargetNotStarted] != 2 {
		t.Fatalf("id campaign: %+v, %v", c2, err)
	}
	e.runUntil(t, e.worker("w"), func() bool { return e.settled(t, c.ID)() && e.settled(t, c2.ID)() })
	if tg := e.targets(t, c2.ID)["ghost"]; tg.State != store.TargetFailed || tg.LastError != `Nextcloud user "ghost" does not exist` {
		t.Errorf("ghost: %+v", tg)
	}
	var zed []string
	for _, m := range e.smtp.Messages() {
		if m.To[0] == "zed@example.org" {
			zed = append(zed, m.Subject+"|"+m.Body)
		}
	}
	if len(zed) != 1 || !strings.HasPrefix(zed[0], "Hi zed|Go to https://id.example.org/onboard/") {
		t.Errorf("zed's custom message: %q", zed)
	}
	if len(e.smtp.Messages()) != 3 {
		t.Errorf("%d e-mails, want ann, andy and zed once each", len(e.smtp.Messages()))
	}
}

// A worker stopped after N sends, then a fresh one: everyone gets exactly
// one message, nobody is skipped.
func TestResumeAfterInterruptionSendsEachOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open(t))
		var ids []string
		for i := range 8 {
			id := fmt.Sprintf("u%d", i)
			ids = append(ids, id)
			e.fake.AddUser(ocsfake.User{ID: id, Email: id + "@example.org"})
		}
		c, err := e.svc.Start(t.Context(), admin, StartRequest{UserIDs: ids, Channels: []string{"email", "notification"}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		e.mailer.after = func(n int) {
			if n == 3 {
				cancel() // "kill" the first worker mid-campaign
			}
		}
		if err := e.worker("first").Run(ctx); err != context.Canceled {
			t.Fatalf("first worker: %v", err)
		}
		sentBefore := len(e.smtp.Messages())
		if sentBefore != 3 {
			t.Fatalf("first worker sent %d before stopping, want 3 (the one in flight completes, nothing more)", sentBefore)
		}
		mid, _ := e.st.GetCampaign(t.Context(), c.ID)
		if mid.Counts[store.TargetInvited] != 3 || mid.Counts[store.TargetNotStarted] != 5 || mid.Counts[store.TargetSending] != 0 {
			t.Fatalf("state after the stop: %v", mid.Counts)
		}
		e.mailer.after = nil
		e.runUntil(t, e.worker("second"), e.settled(t, c.ID))

		per := map[string]int{}
		for _, m := range e.smtp.Messages() {
			per[m.To[0]]++
		}
		for _, id := range ids {
			if per[id+"@example.org"] != 1 {
				t.Errorf("%s got %d e-mails, want 1", id, per[id+"@example.org"])
			}
			if n := len(e.fake.Notifications(id)); n != 1 {
				t.Errorf("%s got %d notifications, want 1", id, n)
			}
		}
		if final, _ := e.st.GetCampaign(t.Context(), c.ID); final.Counts[store.TargetInvited] != 8 {
			t.Errorf("final counts %v", final.Counts)
		}
	})
}

// A worker that died without recording (kill -9): its target is reported
// failed-and-uncertain, never silently sent twice; resend sends it once.
func TestCrashedDeliveryIsNotResentUntilAsked(t *testing.T) {
	e := newEnv(t, storetest.Open(t, storetest.SQLite))
	ctx := t.Context()
	e.fake.AddUser(ocsfake.User{ID: "vic", Email: "vic@example.org"})
	c, err := e.svc.Start(ctx, admin, StartRequest{UserIDs: []string{"vic"}, Channels: []string{"email"}})
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-2 * time.Minute)
	if got, err := e.st.ClaimTargets(ctx, "crashed", 1, past, past.Add(time.Minute)); err != nil || len(got) != 1 {
		t.Fatalf("claim: %v, %v", got, err)
	}
	e.runUntil(t, e.worker("w"), func() bool { return e.targets(t, c.ID)["vic"].State == store.TargetFailed })
	if tg := e.targets(t, c.ID)["vic"]; tg.LastError != InterruptedReason || len(e.smtp.Messages()) != 0 {
		t.Fatalf("vic: %+v, %d e-mails", tg, len(e.smtp.Messages()))
	}
	if n, err := e.svc.Resend(ctx, admin, c.ID, nil); err != nil || n != 1 {
		t.Fatalf("Resend = %d, %v", n, err)
	}
	e.runUntil(t, e.worker("w"), e.settled(t, c.ID))
	if len(e.smtp.Messages()) != 1 || e.targets(t, c.ID)["vic"].State != store.TargetInvited {
		t.Fatalf("after resend: %d e-mails, %+v", len(e.smtp.Messages()), e.targets(t, c.ID)["vic"])
	}
}

func TestResendReachesOnlyThoseNotLinked(t *testing.T) {
	e := newEnv(t, storetest.Open(t, storetest.SQLite))
	ctx := t.Context()
	for _, u := range []string{"kim", "lee"} {
		e.fake.AddUser(ocsfake.User{ID: u, Email: u + "@example.org"})
	}
	c, err := e.svc.Start(ctx, admin, StartRequest{UserIDs: []string{"kim", "lee"}, Channels: []string{"email"}})
	if err != nil {
		t.Fatal(err)
	}
	e.runUntil(t, e.worker("w"), e.settled(t, c.ID))
	first := map[string]string{}
	for _, m := range e.smtp.Messages() {
		first[m.To[0]] = tokenIn(t, m.Body)
	}
	if _, err := e.invites.Consume(ctx, first["kim@example.org"], "Qkim", "login:Qkim"); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.Resend(ctx, admin, c.ID, nil); err != nil || n != 1 {
		t.Fatalf("Resend = %d, %v; want only lee", n, err)
	}
	e.runUntil(t, e.worker("w"), e.settled(t, c.ID))
	msgs := e.smtp.Messages()
	if len(msgs) != 3 || msgs[2].To[0] != "lee@example.org" {
		t.Fatalf("messages after resend: %d, last to %v", len(msgs), msgs[len(msgs)-1].To)
	}
	if _, err := e.invites.Lookup(ctx, first["lee@example.org"], "Qlee"); err != store.ErrInviteRevoked {
		t.Errorf("lee's first link must stop working: %v", err)
	}
	if _, err := e.invites.Lookup(ctx, tokenIn(t, msgs[2].Body), "Qlee"); err != nil {
		t.Errorf("lee's new link: %v", err)
	}
	if _, err := e.svc.Resend(ctx, admin, "cmp_nope", nil); err == nil {
		t.Error("resend of an unknown campaign must fail")
	}
}

// Two replicas working one campaign never send to anyone twice.
func TestTwoWorkersNeverDoubleSend(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		st := open(t)
		e := newEnv(t, st)
		var ids []string
		for i := range 20 {
			id := fmt.Sprintf("p%02d", i)
			ids = append(ids, id)
			e.fake.AddUser(ocsfake.User{ID: id, Email: id + "@example.org"})
		}
		c, err := e.svc.Start(t.Context(), admin, StartRequest{UserIDs: ids, Channels: []string{"email"}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		for _, owner := range []string{"replica-a", "replica-b"} {
			wg.Add(1)
			go func() { defer wg.Done(); _ = e.worker(owner).Run(ctx) }()
		}
		deadline := time.Now().Add(10 * time.Second)
		for !e.settled(t, c.ID)() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		per := map[string]int{}
		for _, m := range e.smtp.Messages() {
			per[m.To[0]]++
		}
		for _, id := range ids {
			if per[id+"@example.org"] != 1 {
				t.Errorf("%s got %d e-mails", id, per[id+"@example.org"])
			}
		}
	})
}
