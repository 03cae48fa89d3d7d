package conformance

import (
	"errors"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func runMappings(t *testing.T, newStore NewStore) {
	t.Run("CreateThenGetBySide", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		before := time.Now()
		m := mapping(1)
		m.CreatedAt = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) // ignored: the store stamps
		created := mustCreate(t, s, m)
		after := time.Now()
		if created.QortalAddress != m.QortalAddress || created.NextcloudUserID != m.NextcloudUserID ||
			created.DisplayName != m.DisplayName || created.Email != m.Email || created.Status != m.Status {
			t.Errorf("CreateMapping returned %+v for input %+v", created, m)
		}
		checkStoredTime(t, "CreatedAt", created.CreatedAt)
		between(t, "CreatedAt", created.CreatedAt, before, after)
		if created.UpdatedAt != created.CreatedAt {
			t.Errorf("UpdatedAt %v != CreatedAt %v on a new mapping", created.UpdatedAt, created.CreatedAt)
		}
		// == on the whole struct: the times must round-trip exactly.
		if got, err := s.GetMappingByAddress(t.Context(), m.QortalAddress); err != nil || got != created {
			t.Errorf("GetMappingByAddress = %+v, %v; want %+v", got, err, created)
		}
		if got, err := s.GetMappingByUser(t.Context(), m.NextcloudUserID); err != nil || got != created {
			t.Errorf("GetMappingByUser = %+v, %v; want %+v", got, err, created)
		}
	})

	t.Run("Unknown", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		mustCreate(t, s, mapping(1))
		_, err := s.GetMappingByAddress(t.Context(), "Qnobody")
		wantErr(t, "GetMappingByAddress(unknown)", err, store.ErrNotFound)
		_, err = s.GetMappingByUser(t.Context(), "nobody")
		wantErr(t, "GetMappingByUser(unknown)", err, store.ErrNotFound)
		_, err = s.GetMappingByAddress(t.Context(), "")
		wantErr(t, "GetMappingByAddress(\"\")", err, store.ErrNotFound)
		_, err = s.GetMappingByUser(t.Context(), "user0001\x00")
		wantErr(t, "GetMappingByUser(with NUL)", err, store.ErrNotFound)
		// Nextcloud user ids are case-insensitive: another spelling finds
		// the mapping, which keeps the spelling it was created with.
		if got, err := s.GetMappingByUser(t.Context(), "USER0001"); err != nil || got.NextcloudUserID != "user0001" {
			t.Errorf("GetMappingByUser(other case) = %+v, %v; want the user0001 mapping", got, err)
		}
	})

	t.Run("ConflictsSayWhichSide", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		orig := mustCreate(t, s, mapping(1))

		sameAddress := mapping(2)
		sameAddress.QortalAddress = orig.QortalAddress
		_, err := s.CreateMapping(t.Context(), sameAddress, by("admin:test"))
		wantErr(t, "create with a taken address", err, store.ErrAddressTaken)

		sameUser := mapping(3)
		sameUser.NextcloudUserID = orig.NextcloudUserID
		_, err = s.CreateMapping(t.Context(), sameUser, by("admin:test"))
		wantErr(t, "create with a taken user", err, store.ErrUserTaken)

		if got, err := s.GetMappingByAddress(t.Context(), orig.QortalAddress); err != nil || got != orig {
			t.Errorf("after conflicts the original is %+v, %v; want %+v", got, err, orig)
		}
		for _, addr := range []string{sameUser.QortalAddress} {
			if _, err := s.GetMappingByAddress(t.Context(), addr); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("rejected mapping %s was stored (err %v)", addr, err)
			}
		}
		if _, err := s.GetMappingByUser(t.Context(), sameAddress.NextcloudUserID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("rejected mapping for %s was stored (err %v)", sameAddress.NextcloudUserID, err)
		}
	})

	t.Run("InvalidInputIsRejected", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		bad := map[string]store.Mapping{}
		m := mapping(1)
		m.Status = "deleted"
		bad["unknown status"] = m
		m = mapping(2)
		m.QortalAddress = ""
		bad["empty address"] = m
		m = mapping(3)
		m.NextcloudUserID = ""
		bad["empty user"] = m
		m = mapping(4)
		m.DisplayName = "bad \xff utf-8"
		bad["invalid UTF-8"] = m
		for name, m := range bad {
			_, err := s.CreateMapping(t.Context(), m, by("admin:test"))
			wantPlainErr(t, "create with "+name, err)
		}
		_, err := s.CreateMapping(t.Context(), mapping(5), store.AuditEntry{})
		wantPlainErr(t, "create with an audit entry naming no actor", err)
		if page, err := s.ListMappings(t.Context(), store.ListOptions{}); err != nil || len(page.Mappings) != 0 {
			t.Errorf("rejected mappings were stored: %+v, %v", page.Mappings, err)
		}
		orig := mustCreate(t, s, mapping(6))
		upd := orig
		upd.Status = "gone"
		_, err = s.UpdateMapping(t.Context(), upd, by("admin:test"))
		wantPlainErr(t, "update to an unknown status", err)
		if got, _ := s.GetMappingByAddress(t.Context(), orig.QortalAddress); got != orig {
			t.Errorf("rejected update changed the mapping to %+v", got)
		}
	})

	t.Run("UpdateKeepsUserID", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		orig := mustCreate(t, s, mapping(1))
		other := mustCreate(t, s, mapping(2))
		time.Sleep(2 * time.Millisecond) // so UpdatedAt must move
		before := time.Now()
		upd := orig
		upd.NextcloudUserID = "someone-else"
		upd.DisplayName = "Renamed"
		upd.Email = ""
		upd.Status = store.StatusBlocked
		upd.CreatedAt = time.Time{}
		got, err := s.UpdateMapping(t.Context(), upd, by("admin:test"))
		after := time.Now()
		if err != nil {
			t.Fatalf("UpdateMapping: %v", err)
		}
		if got.NextcloudUserID != orig.NextcloudUserID || got.QortalAddress != orig.QortalAddress {
			t.Errorf("update changed the link: %+v", got)
		}
		if got.DisplayName != "Renamed" || got.Email != "" || got.Status != store.StatusBlocked {
			t.Errorf("update did not apply: %+v", got)
		}
		if got.CreatedAt != orig.CreatedAt {
			t.Errorf("CreatedAt changed from %v to %v", orig.CreatedAt, got.CreatedAt)
		}
		checkStoredTime(t, "UpdatedAt", got.UpdatedAt)
		between(t, "UpdatedAt", got.UpdatedAt, before, after)
		if stored, err := s.GetMappingByAddress(t.Context(), orig.QortalAddress); err != nil || stored != got {
			t.Errorf("stored mapping %+v, %v; UpdateMapping returned %+v", stored, err, got)
		}
		if stored, err := s.GetMappingByUser(t.Context(), orig.NextcloudUserID); err != nil || stored != got {
			t.Errorf("by user: %+v, %v; want %+v", stored, err, got)
		}
		_, err = s.GetMappingByUser(t.Context(), "someone-else")
		wantErr(t, "GetMappingByUser(ignored new user id)", err, store.ErrNotFound)
		if stored, _ := s.GetMappingByAddress(t.Context(), other.QortalAddress); stored != other {
			t.Errorf("update touched another mapping: %+v", stored)
		}

		unknown := mapping(9)
		_, err = s.UpdateMapping(t.Context(), unknown, by("admin:test"))
		wantErr(t, "UpdateMapping(unknown)", err, store.ErrNotFound)
	})

	t.Run("DeleteReturnsOldThenNotFound", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		orig := mustCreate(t, s, mapping(1))
		keep := mustCreate(t, s, mapping(2))
		got, err := s.DeleteMapping(t.Context(), orig.QortalAddress, by("admin:test"))
		if err != nil || got != orig {
			t.Fatalf("DeleteMapping = %+v, %v; want %+v", got, err, orig)
		}
		_, err = s.GetMappingByAddress(t.Context(), orig.QortalAddress)
		wantErr(t, "get after delete", err, store.ErrNotFound)
		_, err = s.GetMappingByUser(t.Context(), orig.NextcloudUserID)
		wantErr(t, "get by user after delete", err, store.ErrNotFound)
		_, err = s.DeleteMapping(t.Context(), orig.QortalAddress, by("admin:test"))
		wantErr(t, "second delete", err, store.ErrNotFound)
		if stored, _ := s.GetMappingByAddress(t.Context(), keep.QortalAddress); stored != keep {
			t.Errorf("delete touched another mapping: %+v", stored)
		}
		// Both sides are free again.
		again := orig
		again.DisplayName = "Again"
		mustCreate(t, s, again)
	})

	t.Run("CountByStatus", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		counts, err := s.CountMappings(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want := map[store.MappingStatus]int{store.StatusLinked: 0, store.StatusInvited: 0, store.StatusBlocked: 0}
		checkCounts(t, counts, want)
		statuses := []store.MappingStatus{store.StatusLinked, store.StatusLinked, store.StatusLinked,
			store.StatusInvited, store.StatusInvited, store.StatusBlocked}
		for i, st := range statuses {
			m := mapping(i)
			m.Status = st
			mustCreate(t, s, m)
			want[st]++
		}
		counts, err = s.CountMappings(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		checkCounts(t, counts, want)
	})
}

func checkCounts(t *testing.T, got, want map[store.MappingStatus]int) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("CountMappings = %v, want %v", got, want)
	}
	for k, v := range want {
		if n, ok := got[k]; !ok || n != v {
			t.Errorf("CountMappings[%s] = %d (present %v), want %d", k, n, ok, v)
		}
	}
}
