package conformance

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func runAudit(t *testing.T, newStore NewStore) {
	t.Run("EachMutationWritesItsEntry", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		m := mapping(1)
		before := time.Now()
		if _, err := s.CreateMapping(t.Context(), m, store.AuditEntry{Actor: "admin:alice", Action: "mapping.create",
			Subject: m.QortalAddress, Detail: `{"op":"create"}`}); err != nil {
			t.Fatal(err)
		}
		upd := m
		upd.Status = store.StatusBlocked
		if _, err := s.UpdateMapping(t.Context(), upd, store.AuditEntry{Actor: "admin:bob", Action: "mapping.block",
			Subject: m.QortalAddress, Detail: `{"status": "blocked"}`}); err != nil {
			t.Fatal(err)
		}
		// Only the actor: the store fills action, subject, detail and time.
		if _, err := s.DeleteMapping(t.Context(), m.QortalAddress, store.AuditEntry{Actor: "wallet:" + m.QortalAddress}); err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		got := allAudit(t, s)
		if len(got) != 3 {
			t.Fatalf("audit log has %d entries, want 3: %+v", len(got), got)
		}
		want := []store.AuditEntry{
			{Actor: "wallet:" + m.QortalAddress, Action: "mapping.delete", Subject: m.QortalAddress, Detail: `{}`},
			{Actor: "admin:bob", Action: "mapping.block", Subject: m.QortalAddress, Detail: `{"status": "blocked"}`},
			{Actor: "admin:alice", Action: "mapping.create", Subject: m.QortalAddress, Detail: `{"op":"create"}`},
		}
		for i, e := range got {
			checkStoredTime(t, "audit At", e.At)
			between(t, "audit At", e.At, before, after)
			w := want[i]
			w.ID, w.At = e.ID, e.At
			if e != w {
				t.Errorf("entry %d (newest first) = %+v, want %+v", i, e, w)
			}
			if i > 0 && e.ID >= got[i-1].ID {
				t.Errorf("ids not decreasing: %d then %d", got[i-1].ID, e.ID)
			}
		}
	})

	t.Run("FailedMutationsWriteNothing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		orig := mustCreate(t, s, mapping(1))
		baseline := len(allAudit(t, s))
		dupAddr := mapping(2)
		dupAddr.QortalAddress = orig.QortalAddress
		dupUser := mapping(3)
		dupUser.NextcloudUserID = orig.NextcloudUserID
		badDetail := store.AuditEntry{Actor: "admin:test", Detail: `{"unterminated": `}
		attempts := map[string]error{}
		_, attempts["create, address taken"] = s.CreateMapping(t.Context(), dupAddr, by("admin:test"))
		_, attempts["create, user taken"] = s.CreateMapping(t.Context(), dupUser, by("admin:test"))
		_, attempts["update unknown"] = s.UpdateMapping(t.Context(), mapping(4), by("admin:test"))
		_, attempts["delete unknown"] = s.DeleteMapping(t.Context(), mapping(5).QortalAddress, by("admin:test"))
		_, attempts["create, audit detail not JSON"] = s.CreateMapping(t.Context(), mapping(6), badDetail)
		upd := orig
		upd.DisplayName = "Changed"
		_, attempts["update, audit detail not JSON"] = s.UpdateMapping(t.Context(), upd, badDetail)
		_, attempts["delete, audit detail not JSON"] = s.DeleteMapping(t.Context(), orig.QortalAddress, badDetail)
		for what, err := range attempts {
			if err == nil {
				t.Errorf("%s: succeeded, want an error", what)
			}
		}
		if n := len(allAudit(t, s)); n != baseline {
			t.Errorf("failed mutations wrote %d audit entries", n-baseline)
		}
		// And a mutation whose audit entry is rejected did not happen.
		if got, err := s.GetMappingByAddress(t.Context(), orig.QortalAddress); err != nil || got != orig {
			t.Errorf("mapping after rejected update/delete = %+v, %v; want %+v", got, err, orig)
		}
		if _, err := s.GetMappingByAddress(t.Context(), mapping(6).QortalAddress); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("create with a rejected audit entry stored the mapping (err %v)", err)
		}
	})

	t.Run("AppendRoundTrip", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		at := time.Date(2031, 2, 3, 4, 5, 6, 789123456, time.FixedZone("UTC+5", 5*3600))
		e := store.AuditEntry{At: at, Actor: "system", Action: "login.ok", Subject: "Qsubject",
			Detail: `{"b": 2,  "a": [1, "ü"]}`} // whitespace and key order must survive
		if err := s.AppendAudit(t.Context(), e); err != nil {
			t.Fatal(err)
		}
		got := allAudit(t, s)
		if len(got) != 1 {
			t.Fatalf("audit log has %d entries, want 1", len(got))
		}
		want := e
		want.ID = got[0].ID
		want.At = at.UTC().Truncate(time.Microsecond)
		if got[0] != want {
			t.Errorf("read back %+v, want %+v", got[0], want)
		}
		if got[0].ID <= 0 {
			t.Errorf("ID = %d, want a positive id", got[0].ID)
		}
		wantPlainErr(t, "AppendAudit without actor", s.AppendAudit(t.Context(), store.AuditEntry{Action: "x"}))
		wantPlainErr(t, "AppendAudit without action", s.AppendAudit(t.Context(), store.AuditEntry{Actor: "x"}))
		wantPlainErr(t, "AppendAudit with invalid JSON", s.AppendAudit(t.Context(),
			store.AuditEntry{Actor: "x", Action: "y", Detail: "nope"}))
		if n := len(allAudit(t, s)); n != 1 {
			t.Errorf("rejected entries were stored: %d entries", n)
		}
	})

	t.Run("Pagination", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for i := range 120 {
			actor := "system"
			if i%10 == 0 {
				actor = fmt.Sprintf("Admin:Tenth-%d", i)
			}
			if err := s.AppendAudit(t.Context(), store.AuditEntry{Actor: actor, Action: "test.event",
				Subject: fmt.Sprintf("subject-%03d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		var (
			ids   []int64
			sizes []int
			opts  = store.ListOptions{Limit: 50}
		)
		for {
			page, err := s.ListAudit(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(page.Entries))
			for _, e := range page.Entries {
				ids = append(ids, e.ID)
			}
			if page.NextCursor == "" {
				break
			}
			// Newer entries must not shift later pages.
			if err := s.AppendAudit(t.Context(), store.AuditEntry{Actor: "system", Action: "late"}); err != nil {
				t.Fatal(err)
			}
			opts.Cursor = page.NextCursor
		}
		if !slices.Equal(sizes, []int{50, 50, 20}) {
			t.Errorf("page sizes = %v, want [50 50 20]", sizes)
		}
		if !slices.IsSortedFunc(ids, func(a, b int64) int { return int(b - a) }) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
			t.Errorf("ids are not strictly decreasing: %v", ids)
		}
		// q matches actor, action or subject, case-insensitively, and pages too.
		var subjects []string
		opts = store.ListOptions{Limit: 5, Query: "admin:tenth"}
		for {
			page, err := s.ListAudit(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Entries {
				subjects = append(subjects, e.Subject)
			}
			if page.NextCursor == "" {
				break
			}
			opts.Cursor = page.NextCursor
		}
		want := []string{"subject-110", "subject-100", "subject-090", "subject-080", "subject-070",
			"subject-060", "subject-050", "subject-040", "subject-030", "subject-020", "subject-010", "subject-000"}
		if !slices.Equal(subjects, want) {
			t.Errorf("q=admin:tenth gave %v, want %v", subjects, want)
		}
		page, err := s.ListAudit(t.Context(), store.ListOptions{Query: "SUBJECT-05"})
		if err != nil || len(page.Entries) != 10 {
			t.Errorf("q on subject gave %d entries (%v), want 10", len(page.Entries), err)
		}
		mappingsPage := store.ListOptions{Limit: 1}
		mustCreate(t, s, mapping(1))
		mustCreate(t, s, mapping(2))
		mp, err := s.ListMappings(t.Context(), mappingsPage)
		if err != nil || mp.NextCursor == "" {
			t.Fatalf("need a mapping cursor: %v", err)
		}
		for _, c := range []string{"%%%", mp.NextCursor} {
			_, err := s.ListAudit(t.Context(), store.ListOptions{Cursor: c})
			wantErr(t, fmt.Sprintf("ListAudit(cursor %q)", c), err, store.ErrInvalidCursor)
		}
	})
}
