package conformance

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func oidcAccessTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := oidcT0
	at := store.AccessToken{ID: "at1", ClientID: "nc", Subject: "alice", QortalAddress: "Qa", Scopes: []string{"openid"},
		Audience: []string{"nc"}, SessionID: "sid", RefreshFamilyID: "fam", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateAccessToken(ctx, at); err != nil {
		t.Fatalf("CreateAccessToken: %v", err)
	}
	got, err := s.GetAccessToken(ctx, "at1")
	if err != nil || got.ClientID != "nc" || got.Subject != "alice" || got.QortalAddress != "Qa" || !slices.Equal(got.Scopes, at.Scopes) ||
		!slices.Equal(got.Audience, at.Audience) || got.SessionID != "sid" || got.RefreshFamilyID != "fam" ||
		!got.ExpiresAt.Equal(at.ExpiresAt) || got.RevokedAt != nil {
		t.Errorf("GetAccessToken = %+v, %v", got, err)
	}
	if err := s.RevokeAccessToken(ctx, "at1", now.Add(time.Minute)); err != nil {
		t.Fatalf("RevokeAccessToken: %v", err)
	}
	if got, _ := s.GetAccessToken(ctx, "at1"); got.RevokedAt == nil || !got.RevokedAt.Equal(now.Add(time.Minute)) {
		t.Errorf("revoked_at = %v", got.RevokedAt)
	}
	wantErr(t, "RevokeAccessToken unknown", s.RevokeAccessToken(ctx, "nope", now), store.ErrNotFound)
	_, err = s.GetAccessToken(ctx, "nope")
	wantErr(t, "GetAccessToken unknown", err, store.ErrNotFound)
}

func refresh(hash, family string, now time.Time) store.RefreshToken {
	return store.RefreshToken{ID: "id-" + hash, Hash: hash, FamilyID: family, ClientID: "nc", Subject: "alice",
		QortalAddress: "Qa", Scopes: []string{"openid", "offline_access"}, Audience: []string{"nc"}, AMR: []string{"hwk"},
		AuthTime: now, SessionID: "sid", CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
}

// oidcRefresh rotates through a and checks reuse through b (a when nil).
func oidcRefresh(t *testing.T, a, b store.Store) {
	if b == nil {
		b = a
	}
	ctx := t.Context()
	now := oidcT0
	if err := a.CreateRefreshToken(ctx, refresh("r1", "fam", now)); err != nil {
		t.Fatalf("CreateRefreshToken: %v", err)
	}
	if err := a.CreateAccessToken(ctx, store.AccessToken{ID: "at-fam", ClientID: "nc", Subject: "alice", RefreshFamilyID: "fam",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, err := b.GetRefreshToken(ctx, "r1")
	if err != nil || got.FamilyID != "fam" || got.ID != "id-r1" || !slices.Equal(got.AMR, []string{"hwk"}) ||
		!got.AuthTime.Equal(now) || got.RotatedAt != nil || got.RevokedAt != nil {
		t.Fatalf("GetRefreshToken = %+v, %v", got, err)
	}
	if err := a.RotateRefreshToken(ctx, "r1", refresh("r2", "fam", now), now.Add(time.Minute)); err != nil {
		t.Fatalf("RotateRefreshToken: %v", err)
	}
	if old, _ := b.GetRefreshToken(ctx, "r1"); old.RotatedAt == nil || old.RevokedAt != nil {
		t.Errorf("rotated token = %+v: want rotated, not revoked", old)
	}
	wantPlainErr(t, "rotate into another family", a.RotateRefreshToken(ctx, "r2", refresh("rx", "other", now), now.Add(time.Minute)))
	// Reuse of r1 through the other handle revokes the whole family.
	err = b.RotateRefreshToken(ctx, "r1", refresh("r3", "fam", now), now.Add(2*time.Minute))
	wantErr(t, "rotating an already rotated token", err, store.ErrRefreshTokenReused)
	for _, h := range []string{"r1", "r2"} {
		if tok, _ := a.GetRefreshToken(ctx, h); tok.RevokedAt == nil {
			t.Errorf("after reuse, %s is not revoked", h)
		}
	}
	if _, err := a.GetRefreshToken(ctx, "r3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the reuse attempt's token was stored: %v", err)
	}
	if at, _ := a.GetAccessToken(ctx, "at-fam"); at.RevokedAt == nil {
		t.Error("access token of the reused family not revoked")
	}
	err = a.RotateRefreshToken(ctx, "r2", refresh("r4", "fam", now), now.Add(3*time.Minute))
	wantErr(t, "rotating a revoked token", err, store.ErrNotFound)
	err = a.RotateRefreshToken(ctx, "unknown", refresh("r5", "fam", now), now)
	wantErr(t, "rotating an unknown token", err, store.ErrNotFound)

	if err := a.CreateRefreshToken(ctx, refresh("e1", "fam2", now)); err != nil {
		t.Fatal(err)
	}
	err = b.RotateRefreshToken(ctx, "e1", refresh("e2", "fam2", now), now.Add(25*time.Hour))
	wantErr(t, "rotating an expired token", err, store.ErrNotFound)

	if err := a.CreateRefreshToken(ctx, refresh("f1", "fam3", now)); err != nil {
		t.Fatal(err)
	}
	if err := b.RevokeRefreshFamily(ctx, "fam3", now); err != nil {
		t.Fatalf("RevokeRefreshFamily: %v", err)
	}
	if tok, _ := a.GetRefreshToken(ctx, "f1"); tok.RevokedAt == nil {
		t.Error("RevokeRefreshFamily left a token active")
	}
	_, err = a.GetRefreshToken(ctx, "nope")
	wantErr(t, "GetRefreshToken unknown", err, store.ErrNotFound)
}

// oidcConcurrentRefresh races rotations of one token: exactly one wins, the
// rest see reuse, and the family ends up revoked.
func oidcConcurrentRefresh(t *testing.T, a, b store.Store) {
	if b == nil {
		b = a
	}
	now := oidcT0
	if err := a.CreateRefreshToken(t.Context(), refresh("c0", "famc", now)); err != nil {
		t.Fatal(err)
	}
	errs := race(func(i int) error {
		s := a
		if i%2 == 1 {
			s = b
		}
		return s.RotateRefreshToken(t.Context(), "c0", refresh(fmt.Sprintf("c%d", i+1), "famc", now), now.Add(time.Second))
	})
	exactlyOneWins(t, "concurrent RotateRefreshToken", errs, store.ErrRefreshTokenReused)
	for i := range racers {
		tok, err := a.GetRefreshToken(t.Context(), fmt.Sprintf("c%d", i+1))
		if err == nil && tok.RevokedAt == nil {
			t.Errorf("winner's token c%d still active after a concurrent reuse", i+1)
		}
	}
}

func oidcSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := oidcT0
	doneRequest(t, s, "s1", "", now)
	doneRequest(t, s, "s2", "", now)
	for i, sid := range []string{"sid-s1", "sid-s2"} {
		if err := s.CreateAccessToken(ctx, store.AccessToken{ID: fmt.Sprintf("at%d", i), ClientID: "nc", Subject: "alice",
			SessionID: sid, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		r := refresh(fmt.Sprintf("rt%d", i), fmt.Sprintf("fam%d", i), now)
		r.SessionID = sid
		if err := s.CreateRefreshToken(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	ended, err := s.EndSession(ctx, "sid-s1", now.Add(time.Minute))
	if err != nil || ended.ID != "sid-s1" || ended.Subject != "alice" || ended.ClientID != "nc" || ended.EndedAt == nil {
		t.Fatalf("EndSession = %+v, %v", ended, err)
	}
	if at, _ := s.GetAccessToken(ctx, "at0"); at.RevokedAt == nil {
		t.Error("EndSession left the session's access token active")
	}
	if rt, _ := s.GetRefreshToken(ctx, "rt0"); rt.RevokedAt == nil {
		t.Error("EndSession left the session's refresh token active")
	}
	if at, _ := s.GetAccessToken(ctx, "at1"); at.RevokedAt != nil {
		t.Error("EndSession revoked another session's token")
	}
	_, err = s.EndSession(ctx, "sid-s1", now.Add(2*time.Minute))
	wantErr(t, "EndSession twice", err, store.ErrNotFound)
	_, err = s.EndSession(ctx, "nope", now)
	wantErr(t, "EndSession unknown", err, store.ErrNotFound)

	all, err := s.EndSessionsFor(ctx, "alice", "nc", now.Add(3*time.Minute))
	if err != nil || len(all) != 1 || all[0].ID != "sid-s2" {
		t.Fatalf("EndSessionsFor = %+v, %v: want only the open sid-s2", all, err)
	}
	if rt, _ := s.GetRefreshToken(ctx, "rt1"); rt.RevokedAt == nil {
		t.Error("EndSessionsFor left a refresh token active")
	}
	if sess, _ := s.GetSession(ctx, "sid-s2"); sess.EndedAt == nil {
		t.Error("EndSessionsFor did not mark the session ended")
	}
	if again, err := s.EndSessionsFor(ctx, "alice", "nc", now.Add(4*time.Minute)); err != nil || len(again) != 0 {
		t.Errorf("EndSessionsFor again = %+v, %v: want none", again, err)
	}
	_, err = s.GetSession(ctx, "nope")
	wantErr(t, "GetSession unknown", err, store.ErrNotFound)
}
