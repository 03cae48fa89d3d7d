package conformance

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// grantTokens stores an access and a refresh token under grant, as the
// provider does before it redeems the code the grant comes from.
func grantTokens(t *testing.T, s store.Store, grant string, now time.Time) {
	t.Helper()
	if err := s.CreateAccessToken(t.Context(), store.AccessToken{ID: "at-" + grant, ClientID: "nc", Subject: "alice",
		RefreshFamilyID: grant, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatalf("CreateAccessToken(%s): %v", grant, err)
	}
	if err := s.CreateRefreshToken(t.Context(), refresh("rt-"+grant, grant, now)); err != nil {
		t.Fatalf("CreateRefreshToken(%s): %v", grant, err)
	}
}

// wantRevoked asserts whether the access token and the refresh tokens (by
// hash) are revoked.
func wantRevoked(t *testing.T, s store.Store, want bool, accessID string, refreshHashes ...string) {
	t.Helper()
	at, err := s.GetAccessToken(t.Context(), accessID)
	if err != nil || (at.RevokedAt != nil) != want {
		t.Errorf("access token %s: revoked_at = %v, %v; want revoked %v", accessID, at.RevokedAt, err, want)
	}
	for _, h := range refreshHashes {
		rt, err := s.GetRefreshToken(t.Context(), h)
		if err != nil || (rt.RevokedAt != nil) != want {
			t.Errorf("refresh token %s: revoked_at = %v, %v; want revoked %v", h, rt.RevokedAt, err, want)
		}
	}
}

// oidcRedeemedCodes redeems a code through a and replays it through b (a
// when nil): the record outlives the code, and the replay is refused and
// revokes every token of the grant, rotated ones included, and no other.
func oidcRedeemedCodes(t *testing.T, a, b store.Store) {
	if b == nil {
		b = a
	}
	ctx := t.Context()
	now := oidcT0
	ar := doneRequest(t, a, "ar", "hc", now)
	grantTokens(t, a, "g1", now)
	grantTokens(t, a, "other", now)
	exp := now.Add(24 * time.Hour)
	redeemedAt := now.Add(time.Second)
	if err := a.RedeemAuthCode(ctx, "hc", "g1", exp, redeemedAt); err != nil {
		t.Fatalf("RedeemAuthCode: %v", err)
	}
	rc, err := b.GetRedeemedCode(ctx, "hc", redeemedAt)
	if err != nil || rc.Hash != "hc" || rc.GrantID != "g1" || rc.ClientID != ar.ClientID || rc.RedirectURI != ar.RedirectURI ||
		rc.CodeChallenge != ar.CodeChallenge || rc.CodeChallengeMethod != ar.CodeChallengeMethod ||
		!rc.RedeemedAt.Equal(redeemedAt) || !rc.ExpiresAt.Equal(exp) {
		t.Fatalf("GetRedeemedCode = %+v, %v; want the auth request's client, redirect uri and challenge under g1", rc, err)
	}
	checkStoredTime(t, "redeemed_at", rc.RedeemedAt)
	wantRevoked(t, b, false, "at-g1", "rt-g1")

	// Issuance deletes the auth request and its code; the record stays.
	if err := a.DeleteAuthRequest(ctx, "ar"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetRedeemedCode(ctx, "hc", now.Add(time.Minute)); err != nil {
		t.Fatalf("GetRedeemedCode after the auth request went: %v", err)
	}
	if err := a.RotateRefreshToken(ctx, "rt-g1", refresh("rt-g1b", "g1", now), now.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	err = b.RedeemAuthCode(ctx, "hc", "g2", exp, now.Add(time.Minute))
	wantErr(t, "replayed code", err, store.ErrCodeUsed)
	wantRevoked(t, a, true, "at-g1", "rt-g1", "rt-g1b")
	wantRevoked(t, a, false, "at-other", "rt-other")
	if rc, err := a.GetRedeemedCode(ctx, "hc", now.Add(time.Minute)); err != nil || rc.GrantID != "g1" {
		t.Errorf("record after a replay = %+v, %v; want it unchanged (g1)", rc, err)
	}

	_, err = b.GetRedeemedCode(ctx, "hc", exp)
	wantErr(t, "GetRedeemedCode expired", err, store.ErrNotFound)
	_, err = b.GetRedeemedCode(ctx, "unknown", now)
	wantErr(t, "GetRedeemedCode unknown", err, store.ErrNotFound)
	// Once purged, the code is merely unknown.
	if _, err := a.PurgeExpiredOIDC(ctx, exp.Add(time.Second)); err != nil {
		t.Fatalf("PurgeExpiredOIDC: %v", err)
	}
	err = b.RedeemAuthCode(ctx, "hc", "g3", exp.Add(time.Hour), exp.Add(2*time.Second))
	wantErr(t, "replay after purge", err, store.ErrNotFound)
}

// oidcConcurrentRedeem races redemptions of one code through a and b
// alternately (a alone when b is nil). Each racer minted its tokens under
// its own grant first, as the provider does: exactly one wins, and the
// losers, finding the code used, revoke the winner's grant.
func oidcConcurrentRedeem(t *testing.T, a, b store.Store) {
	if b == nil {
		b = a
	}
	now := oidcT0
	doneRequest(t, a, "contested", "hc", now)
	grant := func(i int) string { return fmt.Sprintf("g%d", i) }
	for i := range racers {
		grantTokens(t, a, grant(i), now)
	}
	errs := race(func(i int) error {
		s := a
		if i%2 == 1 {
			s = b
		}
		return s.RedeemAuthCode(t.Context(), "hc", grant(i), now.Add(time.Hour), now.Add(time.Second))
	})
	exactlyOneWins(t, "concurrent RedeemAuthCode", errs, store.ErrCodeUsed)
	winner := slices.IndexFunc(errs, func(err error) bool { return err == nil })
	if winner < 0 {
		return
	}
	rc, err := b.GetRedeemedCode(t.Context(), "hc", now.Add(time.Second))
	if err != nil || rc.GrantID != grant(winner) {
		t.Fatalf("GetRedeemedCode = %+v, %v; want the winner's grant %s", rc, err, grant(winner))
	}
	wantRevoked(t, a, true, "at-"+grant(winner), "rt-"+grant(winner))
}
