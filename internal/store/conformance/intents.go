package conformance

import (
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// runAccountSafety checks issue 7 items 1 and 2 in the store: user ids are
// unique case-insensitively and kept as written, and provision intents.
func runAccountSafety(t *testing.T, newStore NewStore) {
	t.Run("UserIDCaseVariantIsTaken", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		m := mapping(1)
		m.NextcloudUserID = "bobnc"
		mustCreate(t, s, m)
		for _, variant := range []string{"BOBNC", "BobNC", "bobnC"} {
			v := mapping(2)
			v.NextcloudUserID = variant
			_, err := s.CreateMapping(t.Context(), v, by("admin:test"))
			wantErr(t, "CreateMapping("+variant+")", err, store.ErrUserTaken)
		}
		if _, err := s.GetMappingByAddress(t.Context(), mapping(2).QortalAddress); err == nil {
			t.Error("a refused case variant left a mapping behind")
		}
		if n := len(allAudit(t, s)); n != 1 {
			t.Errorf("%d audit entries after one create and refused variants, want 1", n)
		}
		// The spelling Nextcloud gave is kept.
		m2 := mapping(3)
		m2.NextcloudUserID = "Carol.Example"
		mustCreate(t, s, m2)
		got, err := s.GetMappingByUser(t.Context(), "carol.example")
		if err != nil || got.NextcloudUserID != "Carol.Example" || got.QortalAddress != m2.QortalAddress {
			t.Errorf("GetMappingByUser(carol.example) = %+v, %v", got, err)
		}
	})

	t.Run("ProvisionIntent", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		addr := mapping(1).QortalAddress
		_, err := s.GetProvisionIntent(t.Context(), addr)
		wantErr(t, "GetProvisionIntent(none)", err, store.ErrNotFound)

		before := time.Now()
		in, err := s.RecordProvisionIntent(t.Context(), addr, "User0001")
		if err != nil || in.QortalAddress != addr || in.NextcloudUserID != "User0001" {
			t.Fatalf("RecordProvisionIntent = %+v, %v", in, err)
		}
		checkStoredTime(t, "CreatedAt", in.CreatedAt)
		between(t, "CreatedAt", in.CreatedAt, before, time.Now())
		if got, err := s.GetProvisionIntent(t.Context(), addr); err != nil || got != in {
			t.Errorf("GetProvisionIntent = %+v, %v; want %+v", got, err, in)
		}
		// The same pair again (any case) keeps the first record.
		time.Sleep(2 * time.Millisecond)
		again, err := s.RecordProvisionIntent(t.Context(), addr, "user0001")
		if err != nil || !again.CreatedAt.Equal(in.CreatedAt) {
			t.Errorf("re-recording the same pair = %+v, %v; want CreatedAt %v kept", again, err, in.CreatedAt)
		}
		// Another address may not hold an intent for the same account.
		_, err = s.RecordProvisionIntent(t.Context(), mapping(2).QortalAddress, "USER0001")
		wantErr(t, "RecordProvisionIntent(other address, same user)", err, store.ErrUserTaken)
		// Another id for the same address replaces the intent.
		repl, err := s.RecordProvisionIntent(t.Context(), addr, "other01")
		if err != nil || repl.NextcloudUserID != "other01" {
			t.Errorf("replacing the intent = %+v, %v", repl, err)
		}
		// Creating the mapping removes the intent atomically.
		m := mapping(1)
		m.NextcloudUserID = "other01"
		mustCreate(t, s, m)
		_, err = s.GetProvisionIntent(t.Context(), addr)
		wantErr(t, "GetProvisionIntent(after CreateMapping)", err, store.ErrNotFound)

		// Delete is idempotent.
		if _, err := s.RecordProvisionIntent(t.Context(), mapping(5).QortalAddress, "user0005"); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if err := s.DeleteProvisionIntent(t.Context(), mapping(5).QortalAddress); err != nil {
				t.Errorf("DeleteProvisionIntent #%d: %v", i+1, err)
			}
		}
		_, err = s.GetProvisionIntent(t.Context(), mapping(5).QortalAddress)
		wantErr(t, "GetProvisionIntent(after delete)", err, store.ErrNotFound)
		// Bad input is refused without touching the database.
		if _, err := s.RecordProvisionIntent(t.Context(), "", "x"); err == nil {
			t.Error("RecordProvisionIntent accepted an empty address")
		}
		if _, err := s.RecordProvisionIntent(t.Context(), addr, ""); err == nil {
			t.Error("RecordProvisionIntent accepted an empty user id")
		}
	})
}
