package conformance

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func campaign(id string) store.Campaign {
	return store.Campaign{
		ID: id, Channels: []string{store.ChannelNotification, store.ChannelEmail}, Selector: `{"group":"staff"}`,
		NotificationShort: "Link your Qortal account", NotificationLong: "Hello {{.DisplayName}}: {{.Link}}",
		EmailSubject: "Qortal login", EmailBody: "Open {{.Link}} before {{.ExpiresAt}}",
		InviteTTL: 72 * time.Hour, CreatedBy: "admin:test",
	}
}

func users(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("user%02d", i)
	}
	return out
}

func mustCampaign(t *testing.T, s store.Store, c store.Campaign, uids []string) store.Campaign {
	t.Helper()
	got, err := s.CreateCampaign(t.Context(), c, uids, by("admin:test"))
	if err != nil {
		t.Fatalf("CreateCampaign(%s): %v", c.ID, err)
	}
	return got
}

func allTargets(t *testing.T, s store.Store, id string) map[string]store.CampaignTarget {
	t.Helper()
	out := map[string]store.CampaignTarget{}
	opts := store.ListOptions{Limit: 3}
	for {
		page, err := s.ListTargets(t.Context(), id, opts)
		if err != nil {
			t.Fatalf("ListTargets: %v", err)
		}
		for _, tg := range page.Targets {
			if _, dup := out[tg.NextcloudUserID]; dup {
				t.Fatalf("target %s listed twice", tg.NextcloudUserID)
			}
			out[tg.NextcloudUserID] = tg
		}
		if page.NextCursor == "" {
			return out
		}
		opts.Cursor = page.NextCursor
	}
}

func runCampaigns(t *testing.T, newStore NewStore) {
	t.Run("CreateGetList", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := t.Context()
		c := mustCampaign(t, s, campaign("c1"), users(7))
		wantAudit(t, s, "campaign.create", "c1")
		checkStoredTime(t, "campaign CreatedAt", c.CreatedAt)
		got, err := s.GetCampaign(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got.Channels) != "[notification email]" || got.Selector != `{"group":"staff"}` ||
			got.InviteTTL != 72*time.Hour || got.EmailBody != c.EmailBody || !got.CreatedAt.Equal(c.CreatedAt) {
			t.Errorf("GetCampaign = %+v, want %+v", got, c)
		}
		if got.Counts[store.TargetNotStarted] != 7 || got.Counts[store.TargetLinked] != 0 || len(got.Counts) != 5 {
			t.Errorf("counts = %v, want 7 not_started and every state present", got.Counts)
		}
		_, err = s.CreateCampaign(ctx, campaign("c1"), users(1), by("admin:test"))
		wantAdminErr(t, "duplicate campaign", err, store.ErrExists)
		_, err = s.CreateCampaign(ctx, campaign("c2"), []string{"a", "a"}, by("admin:test"))
		wantPlainErr(t, "duplicate target", err)
		_, err = s.CreateCampaign(ctx, campaign("c3"), nil, by("admin:test"))
		wantPlainErr(t, "no targets", err)
		bad := campaign("c4")
		bad.Channels = []string{"pigeon"}
		_, err = s.CreateCampaign(ctx, bad, users(1), by("admin:test"))
		wantPlainErr(t, "unknown channel", err)
		_, err = s.GetCampaign(ctx, "c2")
		wantAdminErr(t, "a rejected campaign must not exist", err, store.ErrNotFound)

		mustCampaign(t, s, campaign("c5"), users(1))
		mustCampaign(t, s, campaign("c6"), users(1))
		var ids []string
		opts := store.ListOptions{Limit: 2}
		for {
			page, err := s.ListCampaigns(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Campaigns {
				ids = append(ids, c.ID)
			}
			if page.NextCursor == "" {
				break
			}
			opts.Cursor = page.NextCursor
		}
		if fmt.Sprint(ids) != "[c6 c5 c1]" {
			t.Errorf("campaigns = %v, want newest first", ids)
		}

		tg := allTargets(t, s, "c1")
		if len(tg) != 7 || tg["user03"].State != store.TargetNotStarted || tg["user03"].Attempts != 0 {
			t.Errorf("targets = %+v", tg)
		}
		page, err := s.ListTargets(ctx, "c1", store.ListOptions{Query: "not_started", Limit: 500})
		if err != nil || len(page.Targets) != 7 {
			t.Errorf("filter by state: %d targets, %v", len(page.Targets), err)
		}
		page, err = s.ListTargets(ctx, "c1", store.ListOptions{Query: "ER05"})
		if err != nil || len(page.Targets) != 1 || page.Targets[0].NextcloudUserID != "user05" {
			t.Errorf("filter by user = %+v, %v", page.Targets, err)
		}
		_, err = s.ListTargets(ctx, "nope", store.ListOptions{})
		wantAdminErr(t, "ListTargets of an unknown campaign", err, store.ErrNotFound)
	})

	t.Run("ClaimDeliverFinish", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := t.Context()
		mustCampaign(t, s, campaign("old"), users(2))
		mustCampaign(t, s, campaign("new"), users(3))
		now := time.Now()
		lease := now.Add(time.Minute)
		got, err := s.ClaimTargets(ctx, "w1", 3, now, lease)
		if err != nil {
			t.Fatal(err)
		}
		var claimed []string
		for _, tg := range got {
			claimed = append(claimed, tg.CampaignID+"/"+tg.NextcloudUserID)
			if tg.State != store.TargetSending || tg.LeaseOwner != "w1" || tg.Attempts != 1 || tg.LeaseUntil == nil {
				t.Errorf("claimed target = %+v", tg)
			}
		}
		sort.Strings(claimed)
		if fmt.Sprint(claimed) != "[new/user00 old/user00 old/user01]" {
			t.Errorf("claimed %v, want the oldest campaign first", claimed)
		}
		if err := s.SetTargetInvite(ctx, "old", "user00", "w2", "inv-x"); err == nil {
			t.Error("SetTargetInvite by a worker that does not hold the claim must fail")
		} else {
			wantAdminErr(t, "SetTargetInvite by another owner", err, store.ErrNotFound)
		}
		if err := s.SetTargetInvite(ctx, "old", "user00", "w1", "inv-1"); err != nil {
			t.Fatal(err)
		}
		sent := time.Now()
		fin, err := s.FinishTarget(ctx, "old", "user00", "w1", store.TargetResult{State: store.TargetInvited, SentAt: &sent})
		if err != nil || fin.State != store.TargetInvited || fin.InviteID != "inv-1" || fin.LeaseOwner != "" ||
			fin.LeaseUntil != nil || fin.SentAt == nil || !fin.SentAt.Equal(sent.UTC().Truncate(time.Microsecond)) {
			t.Fatalf("FinishTarget = %+v, %v", fin, err)
		}
		_, err = s.FinishTarget(ctx, "old", "user00", "w1", store.TargetResult{State: store.TargetFailed})
		wantAdminErr(t, "finishing twice", err, store.ErrNotFound)
		_, err = s.FinishTarget(ctx, "old", "user01", "w1", store.TargetResult{State: store.TargetSending})
		wantPlainErr(t, "finish as sending", err)
		fin, err = s.FinishTarget(ctx, "old", "user01", "w1", store.TargetResult{State: store.TargetFailed, LastError: "smtp: 550 no such mailbox"})
		if err != nil || fin.State != store.TargetFailed || fin.LastError != "smtp: 550 no such mailbox" {
			t.Fatalf("FinishTarget failed = %+v, %v", fin, err)
		}
		if err := s.ReleaseTarget(ctx, "new", "user00", "w1"); err != nil {
			t.Fatal(err)
		}
		tg := allTargets(t, s, "new")["user00"]
		if tg.State != store.TargetNotStarted || tg.Attempts != 0 || tg.LeaseOwner != "" {
			t.Errorf("released target = %+v, want untouched not_started", tg)
		}
		wantAdminErr(t, "release twice", s.ReleaseTarget(ctx, "new", "user00", "w1"), store.ErrNotFound)

		// A worker that dies mid-delivery: its claims fail once the lease ends.
		stale, err := s.ClaimTargets(ctx, "dead", 1, now, now.Add(time.Second))
		if err != nil || len(stale) != 1 {
			t.Fatalf("claim = %+v, %v", stale, err)
		}
		if n, err := s.ReclaimStale(ctx, now.Add(500*time.Millisecond), "interrupted"); err != nil || n != 0 {
			t.Errorf("ReclaimStale before the lease ends = %d, %v", n, err)
		}
		if n, err := s.ReclaimStale(ctx, now.Add(2*time.Second), "interrupted"); err != nil || n != 1 {
			t.Errorf("ReclaimStale after the lease = %d, %v", n, err)
		}
		tg = allTargets(t, s, stale[0].CampaignID)[stale[0].NextcloudUserID]
		if tg.State != store.TargetFailed || tg.LastError != "interrupted" {
			t.Errorf("stale target = %+v", tg)
		}
		c, _ := s.GetCampaign(ctx, "old")
		if c.Counts[store.TargetInvited] != 1 || c.Counts[store.TargetFailed] != 1 {
			t.Errorf("counts = %v", c.Counts)
		}
		_, err = s.ClaimTargets(ctx, "w1", 0, now, lease)
		wantPlainErr(t, "claim zero", err)
	})

	t.Run("ConsumeLinksAndResend", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := t.Context()
		mustCampaign(t, s, campaign("cm"), users(3))
		now := time.Now()
		claimed, err := s.ClaimTargets(ctx, "w", 3, now, now.Add(time.Minute))
		if err != nil || len(claimed) != 3 {
			t.Fatalf("claim: %d, %v", len(claimed), err)
		}
		hashes := map[string]string{}
		for _, tg := range claimed {
			inv := invite("inv-"+tg.NextcloudUserID, now, time.Hour)
			inv.CampaignID, inv.NextcloudUserID = "cm", tg.NextcloudUserID
			mustInvite(t, s, inv)
			hashes[tg.NextcloudUserID] = inv.TokenHash
			state := store.TargetInvited
			if tg.NextcloudUserID == "user02" {
				state = store.TargetFailed
			}
			if _, err := s.FinishTarget(ctx, "cm", tg.NextcloudUserID, "w", store.TargetResult{State: state, InviteID: inv.ID}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.ConsumeInvite(ctx, hashes["user00"], "Quser00", now, by("admin:test")); err != nil {
			t.Fatal(err)
		}
		if tg := allTargets(t, s, "cm")["user00"]; tg.State != store.TargetLinked {
			t.Fatalf("consuming a campaign invite must link its target: %+v", tg)
		}
		if _, err := s.ReleaseInvite(ctx, hashes["user00"], "Quser00", by("admin:test")); err != nil {
			t.Fatal(err)
		}
		if tg := allTargets(t, s, "cm")["user00"]; tg.State != store.TargetInvited {
			t.Fatalf("releasing must put the target back to invited: %+v", tg)
		}
		if _, err := s.ConsumeInvite(ctx, hashes["user00"], "Quser00", now, by("admin:test")); err != nil {
			t.Fatal(err)
		}

		n, err := s.ResendTargets(ctx, "cm", []string{"user01", "user00"}, now, by("admin:test"))
		if err != nil || n != 1 {
			t.Fatalf("ResendTargets(user01, linked user00) = %d, %v; want 1", n, err)
		}
		wantAudit(t, s, "campaign.resend", "cm")
		_, err = s.ConsumeInvite(ctx, hashes["user01"], "Quser01", now, by("admin:test"))
		wantAdminErr(t, "the previous invite of a resent target", err, store.ErrInviteRevoked)
		if _, err := s.ConsumeInvite(ctx, hashes["user02"], "Quser02", now, by("admin:test")); err != nil {
			t.Errorf("a target not named in the resend keeps its invite: %v", err)
		}
		tg := allTargets(t, s, "cm")
		if tg["user00"].State != store.TargetLinked || tg["user01"].State != store.TargetNotStarted || tg["user02"].State != store.TargetLinked {
			t.Errorf("after resend: %+v", tg)
		}
		_, err = s.ResendTargets(ctx, "nope", nil, now, by("admin:test"))
		wantAdminErr(t, "resend unknown campaign", err, store.ErrNotFound)
	})

	t.Run("ClaimOnceUnderRace", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		mustCampaign(t, s, campaign("rc"), users(40))
		var (
			mu   sync.Mutex
			seen = map[string]string{}
		)
		errs := race(func(i int) error {
			owner := fmt.Sprintf("w%02d", i)
			for {
				now := time.Now()
				got, err := s.ClaimTargets(t.Context(), owner, 3, now, now.Add(time.Minute))
				if err != nil || len(got) == 0 {
					return err
				}
				mu.Lock()
				for _, tg := range got {
					if prev, dup := seen[tg.NextcloudUserID]; dup {
						mu.Unlock()
						return fmt.Errorf("%s claimed by %s and %s", tg.NextcloudUserID, prev, owner)
					}
					seen[tg.NextcloudUserID] = owner
				}
				mu.Unlock()
			}
		})
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if len(seen) != 40 {
			t.Errorf("%d of 40 targets claimed", len(seen))
		}
	})
}
