package conformance

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// runAdmin checks the policy, allowlist and invite parts of the store;
// campaigns are in campaigns.go.
func runAdmin(t *testing.T, newStore NewStore) {
	t.Run("Policy", func(t *testing.T) { t.Parallel(); runPolicy(t, newStore(t)) })
	t.Run("Allowlist", func(t *testing.T) { t.Parallel(); runAllowlist(t, newStore(t)) })
	t.Run("Invites", func(t *testing.T) { runInvites(t, newStore) })
	t.Run("Campaigns", func(t *testing.T) { runCampaigns(t, newStore) })
}

var adminSentinels = []error{store.ErrNotFound, store.ErrExists, store.ErrInviteUsed, store.ErrInviteExpired,
	store.ErrInviteRevoked, store.ErrUnavailable, store.ErrInvalidCursor}

// wantAdminErr asserts err matches want and no other admin sentinel.
func wantAdminErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
		return
	}
	for _, other := range adminSentinels {
		if other != want && errors.Is(err, other) {
			t.Errorf("%s: err = %v also matches %v", what, err, other)
		}
	}
}

// lastAudit returns the newest audit entry.
func lastAudit(t *testing.T, s store.Store) store.AuditEntry {
	t.Helper()
	page, err := s.ListAudit(t.Context(), store.ListOptions{Limit: 1})
	if err != nil || len(page.Entries) == 0 {
		t.Fatalf("ListAudit: %v (%d entries)", err, len(page.Entries))
	}
	return page.Entries[0]
}

func wantAudit(t *testing.T, s store.Store, action, subject string) {
	t.Helper()
	if a := lastAudit(t, s); a.Action != action || a.Subject != subject || a.Actor != "admin:test" {
		t.Errorf("last audit = %+v, want %s on %s by admin:test", a, action, subject)
	}
}

func runPolicy(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetLoginPolicy(ctx)
	wantAdminErr(t, "GetLoginPolicy before any set", err, store.ErrNotFound)
	wantAdminErr(t, "ClearLoginPolicy before any set", s.ClearLoginPolicy(ctx, by("admin:test")), store.ErrNotFound)

	before := time.Now()
	p, err := s.SetLoginPolicy(ctx, store.LoginPolicy{Mode: "auto_provision", Guard: "invite", UpdatedBy: "admin:test"}, by("admin:test"))
	if err != nil {
		t.Fatal(err)
	}
	checkStoredTime(t, "policy UpdatedAt", p.UpdatedAt)
	between(t, "policy UpdatedAt", p.UpdatedAt, before, time.Now())
	wantAudit(t, s, "policy.set", "login_policy")
	got, err := s.GetLoginPolicy(ctx)
	if err != nil || got != p {
		t.Fatalf("GetLoginPolicy = %+v, %v; want %+v", got, err, p)
	}
	p2, err := s.SetLoginPolicy(ctx, store.LoginPolicy{Mode: "link_only", Guard: "none", UpdatedBy: "admin:two"}, by("admin:test"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetLoginPolicy(ctx); got != p2 {
		t.Fatalf("second set not stored: %+v, want %+v", got, p2)
	}
	for _, bad := range []store.LoginPolicy{
		{Mode: "open", Guard: "none", UpdatedBy: "a"},
		{Mode: "link_only", Guard: "vibes", UpdatedBy: "a"},
		{Mode: "link_only", Guard: "none"},
	} {
		_, err := s.SetLoginPolicy(ctx, bad, by("admin:test"))
		wantPlainErr(t, fmt.Sprintf("SetLoginPolicy(%+v)", bad), err)
	}
	if got, _ := s.GetLoginPolicy(ctx); got != p2 {
		t.Fatalf("a rejected set changed the policy: %+v", got)
	}
	if err := s.ClearLoginPolicy(ctx, by("admin:test")); err != nil {
		t.Fatal(err)
	}
	wantAudit(t, s, "policy.clear", "login_policy")
	_, err = s.GetLoginPolicy(ctx)
	wantAdminErr(t, "GetLoginPolicy after clear", err, store.ErrNotFound)
}

func runAllowlist(t *testing.T, s store.Store) {
	ctx := t.Context()
	var added []store.AllowlistEntry
	for i := range 5 {
		e, err := s.AddAllowlist(ctx, store.AllowlistEntry{QortalAddress: fmt.Sprintf("Qallow%02d", 4-i),
			Note: fmt.Sprintf("note %d", i), AddedBy: "admin:test"}, by("admin:test"))
		if err != nil {
			t.Fatal(err)
		}
		checkStoredTime(t, "allowlist CreatedAt", e.CreatedAt)
		added = append(added, e)
	}
	wantAudit(t, s, "allowlist.add", "Qallow00")
	_, err := s.AddAllowlist(ctx, store.AllowlistEntry{QortalAddress: "Qallow02", AddedBy: "admin:test"}, by("admin:test"))
	wantAdminErr(t, "duplicate AddAllowlist", err, store.ErrExists)
	_, err = s.AddAllowlist(ctx, store.AllowlistEntry{QortalAddress: "", AddedBy: "admin:test"}, by("admin:test"))
	wantPlainErr(t, "AddAllowlist without address", err)

	got, err := s.GetAllowlist(ctx, "Qallow03")
	if err != nil || got != added[1] {
		t.Fatalf("GetAllowlist = %+v, %v; want %+v", got, err, added[1])
	}
	_, err = s.GetAllowlist(ctx, "Qnobody")
	wantAdminErr(t, "GetAllowlist unknown", err, store.ErrNotFound)

	// Pages of two, in address order, cover everything exactly once.
	var seen []string
	opts := store.ListOptions{Limit: 2}
	for {
		page, err := s.ListAllowlist(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			seen = append(seen, e.QortalAddress)
		}
		if page.NextCursor == "" {
			break
		}
		opts.Cursor = page.NextCursor
	}
	if fmt.Sprint(seen) != "[Qallow00 Qallow01 Qallow02 Qallow03 Qallow04]" {
		t.Errorf("paged allowlist = %v", seen)
	}
	page, err := s.ListAllowlist(ctx, store.ListOptions{Query: "NOTE 3"})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].QortalAddress != "Qallow01" {
		t.Errorf("search by note = %+v, %v", page.Entries, err)
	}
	_, err = s.ListAllowlist(ctx, store.ListOptions{Cursor: "garbage!"})
	wantAdminErr(t, "ListAllowlist bad cursor", err, store.ErrInvalidCursor)

	removed, err := s.RemoveAllowlist(ctx, "Qallow03", by("admin:test"))
	if err != nil || removed != added[1] {
		t.Fatalf("RemoveAllowlist = %+v, %v", removed, err)
	}
	wantAudit(t, s, "allowlist.remove", "Qallow03")
	_, err = s.RemoveAllowlist(ctx, "Qallow03", by("admin:test"))
	wantAdminErr(t, "second RemoveAllowlist", err, store.ErrNotFound)
	_, err = s.GetAllowlist(ctx, "Qallow03")
	wantAdminErr(t, "GetAllowlist after remove", err, store.ErrNotFound)
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func invite(id string, created time.Time, ttl time.Duration) store.Invite {
	return store.Invite{ID: id, TokenHash: tokenHash("token-" + id), Note: "for " + id, CreatedBy: "admin:test",
		CreatedAt: created, ExpiresAt: created.Add(ttl)}
}

func mustInvite(t *testing.T, s store.Store, inv store.Invite) store.Invite {
	t.Helper()
	got, err := s.CreateInvite(t.Context(), inv, by("admin:test"))
	if err != nil {
		t.Fatalf("CreateInvite(%s): %v", inv.ID, err)
	}
	return got
}

func runInvites(t *testing.T, newStore NewStore) {
	// Whole microseconds (precision is checked elsewhere) but not UTC.
	now := time.Date(2030, 6, 7, 8, 9, 10, 123456000, time.FixedZone("CEST", 2*3600))

	t.Run("CreateGetConsumeRelease", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := t.Context()
		inv := invite("i1", now, time.Hour)
		inv.NextcloudUserID = "alice"
		created := mustInvite(t, s, inv)
		wantAudit(t, s, "invite.create", "i1")
		if !created.CreatedAt.Equal(now) || created.CreatedAt.Location() != time.UTC || created.CreatedAt.Nanosecond()%1000 != 0 {
			t.Errorf("CreatedAt = %v, want %v normalised", created.CreatedAt, now)
		}
		_, err := s.CreateInvite(ctx, inv, by("admin:test"))
		wantAdminErr(t, "duplicate CreateInvite", err, store.ErrExists)
		bad := invite("i2", now, -time.Minute)
		_, err = s.CreateInvite(ctx, bad, by("admin:test"))
		wantPlainErr(t, "invite expiring before creation", err)
		bad = invite("i3", now, time.Hour)
		bad.TokenHash = "not-hex"
		_, err = s.CreateInvite(ctx, bad, by("admin:test"))
		wantPlainErr(t, "invite with a bad hash", err)

		got, err := s.GetInvite(ctx, "i1")
		if err != nil || got.TokenHash != inv.TokenHash || got.NextcloudUserID != "alice" || got.UsedAt != nil {
			t.Fatalf("GetInvite = %+v, %v", got, err)
		}
		if byHash, err := s.GetInviteByTokenHash(ctx, inv.TokenHash); err != nil || byHash.ID != "i1" {
			t.Fatalf("GetInviteByTokenHash = %+v, %v", byHash, err)
		}
		_, err = s.GetInviteByTokenHash(ctx, tokenHash("nope"))
		wantAdminErr(t, "GetInviteByTokenHash unknown", err, store.ErrNotFound)

		at := now.Add(10 * time.Minute)
		used, err := s.ConsumeInvite(ctx, inv.TokenHash, "Qalice", at, by("admin:test"))
		if err != nil || used.UsedAt == nil || !used.UsedAt.Equal(at) || used.UsedBy != "Qalice" {
			t.Fatalf("ConsumeInvite = %+v, %v", used, err)
		}
		wantAudit(t, s, "invite.consume", "i1")
		again, err := s.ConsumeInvite(ctx, inv.TokenHash, "Qalice", at.Add(time.Minute), by("admin:test"))
		if err != nil || again.UsedAt == nil || !again.UsedAt.Equal(at) {
			t.Errorf("re-consume by the same address = %+v, %v; want the first use kept", again, err)
		}
		_, err = s.ConsumeInvite(ctx, inv.TokenHash, "Qmallory", at, by("admin:test"))
		wantAdminErr(t, "consume by another address", err, store.ErrInviteUsed)
		_, err = s.ConsumeInvite(ctx, tokenHash("nope"), "Qalice", at, by("admin:test"))
		wantAdminErr(t, "consume unknown", err, store.ErrNotFound)
		_, err = s.RevokeInvite(ctx, "i1", at, by("admin:test"))
		wantAdminErr(t, "revoke used", err, store.ErrInviteUsed)

		_, err = s.ReleaseInvite(ctx, inv.TokenHash, "Qmallory", by("admin:test"))
		wantAdminErr(t, "release by a non-user", err, store.ErrNotFound)
		rel, err := s.ReleaseInvite(ctx, inv.TokenHash, "Qalice", by("admin:test"))
		if err != nil || rel.UsedAt != nil || rel.UsedBy != "" {
			t.Fatalf("ReleaseInvite = %+v, %v", rel, err)
		}
		wantAudit(t, s, "invite.release", "i1")
		if _, err := s.ConsumeInvite(ctx, inv.TokenHash, "Qbob", at, by("admin:test")); err != nil {
			t.Errorf("a released invite must be usable again: %v", err)
		}
	})

	t.Run("ExpiryAndRevocation", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := t.Context()
		inv := mustInvite(t, s, invite("e1", now, time.Hour))
		_, err := s.ConsumeInvite(ctx, inv.TokenHash, "Qlate", inv.ExpiresAt, by("admin:test"))
		wantAdminErr(t, "consume at the expiry instant", err, store.ErrInviteExpired)
		if _, err := s.ConsumeInvite(ctx, inv.TokenHash, "Qjust", inv.ExpiresAt.Add(-time.Microsecond), by("admin:test")); err != nil {
			t.Errorf("consume a microsecond before expiry: %v", err)
		}

		r := mustInvite(t, s, invite("r1", now, time.Hour))
		rev, err := s.RevokeInvite(ctx, "r1", now.Add(time.Minute), by("admin:test"))
		if err != nil || rev.RevokedAt == nil || !rev.RevokedAt.Equal(now.Add(time.Minute)) {
			t.Fatalf("RevokeInvite = %+v, %v", rev, err)
		}
		wantAudit(t, s, "invite.revoke", "r1")
		rev2, err := s.RevokeInvite(ctx, "r1", now.Add(2*time.Minute), by("admin:test"))
		if err != nil || !rev2.RevokedAt.Equal(*rev.RevokedAt) {
			t.Errorf("second revoke = %+v, %v; want the first time kept", rev2, err)
		}
		_, err = s.ConsumeInvite(ctx, r.TokenHash, "Qany", now.Add(3*time.Minute), by("admin:test"))
		wantAdminErr(t, "consume revoked", err, store.ErrInviteRevoked)
		_, err = s.RevokeInvite(ctx, "nope", now, by("admin:test"))
		wantAdminErr(t, "revoke unknown", err, store.ErrNotFound)
	})

	t.Run("ListNewestFirst", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for i := range 5 {
			inv := invite(fmt.Sprintf("l%d", i), now, time.Hour)
			if i == 2 {
				inv.NextcloudUserID = "carol"
			}
			mustInvite(t, s, inv)
		}
		var ids []string
		opts := store.ListOptions{Limit: 2}
		for {
			page, err := s.ListInvites(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, inv := range page.Invites {
				ids = append(ids, inv.ID)
			}
			if page.NextCursor == "" {
				break
			}
			opts.Cursor = page.NextCursor
		}
		if fmt.Sprint(ids) != "[l4 l3 l2 l1 l0]" {
			t.Errorf("invites = %v, want newest first", ids)
		}
		page, err := s.ListInvites(t.Context(), store.ListOptions{Query: "CAROL"})
		if err != nil || len(page.Invites) != 1 || page.Invites[0].ID != "l2" {
			t.Errorf("search by user = %+v, %v", page.Invites, err)
		}
		_, err = s.ListInvites(t.Context(), store.ListOptions{Cursor: "bQ"})
		wantAdminErr(t, "ListInvites bad cursor", err, store.ErrInvalidCursor)
	})

	t.Run("ConsumeOnceUnderRace", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		inv := mustInvite(t, s, invite("race", time.Now(), time.Hour))
		errs := race(func(i int) error {
			_, err := s.ConsumeInvite(t.Context(), inv.TokenHash, fmt.Sprintf("Qracer%02d", i), time.Now(), by("admin:test"))
			return err
		})
		exactlyOneWins(t, "ConsumeInvite", errs, store.ErrInviteUsed)
	})
}
