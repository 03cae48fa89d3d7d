package conformance

import (
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func challenge(id string, now time.Time) store.Challenge {
	return store.Challenge{
		ID:            id,
		Purpose:       "login",
		QortalAddress: "Qchallenged",
		Message:       "qortal-oidc login\nnonce: " + id,
		AuthRequestID: "ar-" + id,
		ClientID:      "nextcloud",
		CreatedAt:     now,
		ExpiresAt:     now.Add(5 * time.Minute),
	}
}

// normalised is c as the store keeps it: UTC, microseconds.
func normalised(c store.Challenge) store.Challenge {
	c.CreatedAt = c.CreatedAt.UTC().Truncate(time.Microsecond)
	c.ExpiresAt = c.ExpiresAt.UTC().Truncate(time.Microsecond)
	if c.UsedAt != nil {
		u := c.UsedAt.UTC().Truncate(time.Microsecond)
		c.UsedAt = &u
	}
	return c
}

func sameChallenge(a, b store.Challenge) bool {
	ua, ub := a.UsedAt, b.UsedAt
	a.UsedAt, b.UsedAt = nil, nil
	if a != b || (ua == nil) != (ub == nil) {
		return false
	}
	return ua == nil || *ua == *ub
}

func runChallenges(t *testing.T, newStore NewStore) {
	// Not a round number and not UTC: precision and zone must be normalised.
	now := time.Date(2030, 6, 7, 8, 9, 10, 123456789, time.FixedZone("CEST", 2*3600))

	t.Run("CreateGetConsumeOnce", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		c := challenge("c1", now)
		if err := s.CreateChallenge(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetChallenge(t.Context(), "c1")
		if err != nil || !sameChallenge(got, normalised(c)) {
			t.Fatalf("GetChallenge = %+v, %v; want %+v", got, err, normalised(c))
		}
		checkStoredTime(t, "CreatedAt", got.CreatedAt)
		checkStoredTime(t, "ExpiresAt", got.ExpiresAt)

		at := now.Add(time.Minute + 987654321)
		consumed, err := s.ConsumeChallenge(t.Context(), "c1", at)
		if err != nil {
			t.Fatalf("ConsumeChallenge: %v", err)
		}
		want := normalised(c)
		used := at.UTC().Truncate(time.Microsecond)
		want.UsedAt = &used
		if !sameChallenge(consumed, want) {
			t.Errorf("ConsumeChallenge = %+v (used %v), want %+v (used %v)", consumed, consumed.UsedAt, want, used)
		}
		if got, err := s.GetChallenge(t.Context(), "c1"); err != nil || !sameChallenge(got, want) {
			t.Errorf("GetChallenge after consume = %+v, %v; want used at %v", got, err, used)
		}
		_, err = s.ConsumeChallenge(t.Context(), "c1", at.Add(time.Second))
		wantErr(t, "second consume", err, store.ErrChallengeUsed)
		_, err = s.ConsumeChallenge(t.Context(), "c1", now.Add(time.Hour))
		wantErr(t, "consume of a used challenge after expiry", err, store.ErrChallengeUsed)
	})

	t.Run("MinimalChallenge", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		before := time.Now()
		c := store.Challenge{ID: "min", Purpose: "provision", Message: "m", ExpiresAt: before.Add(time.Hour)}
		if err := s.CreateChallenge(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetChallenge(t.Context(), "min")
		if err != nil {
			t.Fatal(err)
		}
		between(t, "CreatedAt filled by the store", got.CreatedAt, before, time.Now())
		if got.QortalAddress != "" || got.AuthRequestID != "" || got.ClientID != "" || got.UsedAt != nil {
			t.Errorf("optional fields came back as %+v", got)
		}
	})

	t.Run("Expired", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		c := challenge("old", now)
		if err := s.CreateChallenge(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		_, err := s.ConsumeChallenge(t.Context(), "old", c.ExpiresAt)
		wantErr(t, "consume at the expiry instant", err, store.ErrChallengeExpired)
		_, err = s.ConsumeChallenge(t.Context(), "old", c.ExpiresAt.Add(time.Hour))
		wantErr(t, "consume after expiry", err, store.ErrChallengeExpired)
		if got, err := s.GetChallenge(t.Context(), "old"); err != nil || got.UsedAt != nil {
			t.Errorf("failed consumes marked it used: %+v, %v", got, err)
		}
		// Still usable one microsecond before expiry.
		if _, err := s.ConsumeChallenge(t.Context(), "old", c.ExpiresAt.Add(-time.Microsecond)); err != nil {
			t.Errorf("consume just before expiry: %v", err)
		}
	})

	t.Run("Unknown", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		if err := s.CreateChallenge(t.Context(), challenge("known", now)); err != nil {
			t.Fatal(err)
		}
		_, err := s.GetChallenge(t.Context(), "unknown")
		wantErr(t, "GetChallenge(unknown)", err, store.ErrNotFound)
		_, err = s.ConsumeChallenge(t.Context(), "unknown", now)
		wantErr(t, "ConsumeChallenge(unknown)", err, store.ErrNotFound)
	})

	t.Run("InvalidAndDuplicate", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		c := challenge("dup", now)
		if err := s.CreateChallenge(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		other := challenge("dup", now.Add(time.Second))
		other.Message = "another message"
		wantPlainErr(t, "CreateChallenge with a taken id", s.CreateChallenge(t.Context(), other))
		if got, _ := s.GetChallenge(t.Context(), "dup"); !sameChallenge(got, normalised(c)) {
			t.Errorf("duplicate create changed the challenge to %+v", got)
		}
		noExpiry := challenge("noexp", now)
		noExpiry.ExpiresAt = now
		noID := challenge("", now)
		noMessage := challenge("nomsg", now)
		noMessage.Message = ""
		for what, c := range map[string]store.Challenge{"no expiry after creation": noExpiry, "no id": noID, "no message": noMessage} {
			wantPlainErr(t, "CreateChallenge with "+what, s.CreateChallenge(t.Context(), c))
		}
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		cut := now.Add(time.Hour)
		var gone, kept []string
		for i, offset := range []time.Duration{-time.Hour, -time.Minute, -time.Microsecond, 0, time.Minute} {
			c := challenge(string(rune('a'+i)), cut.Add(offset-10*time.Minute))
			c.ExpiresAt = cut.Add(offset)
			if err := s.CreateChallenge(t.Context(), c); err != nil {
				t.Fatal(err)
			}
			if offset < 0 {
				gone = append(gone, c.ID)
			} else {
				kept = append(kept, c.ID)
			}
		}
		// A used challenge goes too once expired.
		if _, err := s.ConsumeChallenge(t.Context(), "a", cut.Add(-65*time.Minute)); err != nil {
			t.Fatal(err)
		}
		n, err := s.DeleteExpiredChallenges(t.Context(), cut)
		if err != nil || n != len(gone) {
			t.Fatalf("DeleteExpiredChallenges = %d, %v; want %d", n, err, len(gone))
		}
		for _, id := range gone {
			_, err := s.GetChallenge(t.Context(), id)
			wantErr(t, "GetChallenge("+id+") after delete", err, store.ErrNotFound)
		}
		for _, id := range kept {
			if _, err := s.GetChallenge(t.Context(), id); err != nil {
				t.Errorf("GetChallenge(%s), not yet expired: %v", id, err)
			}
		}
		if n, err := s.DeleteExpiredChallenges(t.Context(), cut); err != nil || n != 0 {
			t.Errorf("second DeleteExpiredChallenges = %d, %v; want 0", n, err)
		}
	})
}
