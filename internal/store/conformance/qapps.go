package conformance

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func qapp(i int) store.QApp {
	return store.QApp{
		ID: fmt.Sprintf("qa%04d", i), Service: store.QAppServiceApp, Name: fmt.Sprintf("Publisher %d", i),
		Title: fmt.Sprintf("App %04d", i), Groups: []string{"staff", "admin"}, Actions: []string{"SIGN_TRANSACTION"},
		PinnedSignature: fmt.Sprintf("Sig%04d", i), PinnedAt: time.Date(2030, 1, 2, 3, 4, 5, 678912345, time.FixedZone("X", 3600)),
	}
}

func runQApps(t *testing.T, newStore NewStore) {
	t.Run("CreateGetListUpdateDelete", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := t.Context()
		before := time.Now()
		a, err := s.CreateQApp(ctx, qapp(2), by("admin:test"))
		if err != nil {
			t.Fatalf("CreateQApp: %v", err)
		}
		checkStoredTime(t, "CreatedAt", a.CreatedAt)
		between(t, "CreatedAt", a.CreatedAt, before, time.Now())
		if !slices.Equal(a.Groups, []string{"admin", "staff"}) {
			t.Errorf("Groups = %v, want sorted [admin staff]", a.Groups)
		}
		got, err := s.GetQApp(ctx, a.ID)
		if err != nil {
			t.Fatalf("GetQApp: %v", err)
		}
		if got.Name != "Publisher 2" || got.PinnedSignature != "Sig0002" || !got.PinnedAt.Equal(a.PinnedAt) ||
			!slices.Equal(got.Groups, a.Groups) || !slices.Equal(got.Actions, a.Actions) || got.Disabled {
			t.Errorf("GetQApp = %+v, want %+v", got, a)
		}
		checkStoredTime(t, "PinnedAt", got.PinnedAt)
		if _, err := s.CreateQApp(ctx, qapp(1), by("admin:test")); err != nil {
			t.Fatal(err)
		}
		list, err := s.ListQApps(ctx)
		if err != nil || len(list) != 2 || list[0].ID != "qa0001" || list[1].ID != "qa0002" {
			t.Fatalf("ListQApps = %v, %v; want qa0001, qa0002 by title", list, err)
		}

		up := got
		up.Name, up.Service = "changed", store.QAppServiceWebsite // fixed fields: ignored
		up.Title, up.Groups, up.Actions, up.Disabled, up.PinnedSignature = "New <b>title</b>", nil, nil, true, "Sig9"
		after, err := s.UpdateQApp(ctx, up, by("admin:test"))
		if err != nil {
			t.Fatalf("UpdateQApp: %v", err)
		}
		got, _ = s.GetQApp(ctx, a.ID)
		if got.Name != "Publisher 2" || got.Service != store.QAppServiceApp || got.Title != "New <b>title</b>" ||
			len(got.Groups) != 0 || len(got.Actions) != 0 || !got.Disabled || got.PinnedSignature != "Sig9" {
			t.Errorf("after update = %+v", got)
		}
		if got.Groups == nil || after.Groups == nil {
			t.Errorf("empty Groups must be an empty slice, not nil")
		}
		if !got.UpdatedAt.After(a.UpdatedAt) && !got.UpdatedAt.Equal(a.UpdatedAt) {
			t.Errorf("UpdatedAt went back")
		}

		del, err := s.DeleteQApp(ctx, a.ID, by("admin:test"))
		if err != nil || del.ID != a.ID {
			t.Fatalf("DeleteQApp = %v, %v", del, err)
		}
		_, err = s.GetQApp(ctx, a.ID)
		wantErr(t, "GetQApp after delete", err, store.ErrNotFound)
		_, err = s.DeleteQApp(ctx, a.ID, by("admin:test"))
		wantErr(t, "DeleteQApp twice", err, store.ErrNotFound)
		_, err = s.UpdateQApp(ctx, up, by("admin:test"))
		wantErr(t, "UpdateQApp missing", err, store.ErrNotFound)

		var actions []string
		for _, e := range allAudit(t, s) {
			actions = append(actions, e.Action+":"+e.Subject)
		}
		want := []string{"qapp.delete:qa0002", "qapp.update:qa0002", "qapp.create:qa0001", "qapp.create:qa0002"}
		if !slices.Equal(actions, want) {
			t.Errorf("audit = %v, want %v", actions, want)
		}
	})

	t.Run("OneEntryPerResource", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		if _, err := s.CreateQApp(t.Context(), qapp(1), by("admin:test")); err != nil {
			t.Fatal(err)
		}
		same := qapp(2)
		same.Name = "PUBLISHER 1" // names are case-insensitive on Qortal
		_, err := s.CreateQApp(t.Context(), same, by("admin:test"))
		wantErr(t, "same resource", err, store.ErrExists)
		sameID := qapp(3)
		sameID.ID = "qa0001"
		_, err = s.CreateQApp(t.Context(), sameID, by("admin:test"))
		wantErr(t, "same id", err, store.ErrExists)
		other := qapp(4)
		other.Name, other.Identifier = "Publisher 1", "second"
		if _, err := s.CreateQApp(t.Context(), other, by("admin:test")); err != nil {
			t.Errorf("another identifier of the same name: %v", err)
		}
		if n := len(allAudit(t, s)); n != 2 {
			t.Errorf("audit entries = %d, want 2 (failed creates leave nothing)", n)
		}
	})

	t.Run("Validation", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for name, mut := range map[string]func(*store.QApp){
			"service":    func(a *store.QApp) { a.Service = "IMAGE" },
			"no name":    func(a *store.QApp) { a.Name = "" },
			"no pin":     func(a *store.QApp) { a.PinnedSignature = "" },
			"dup group":  func(a *store.QApp) { a.Groups = []string{"a", "a"} },
			"nul title":  func(a *store.QApp) { a.Title = "a\x00b" },
			"empty item": func(a *store.QApp) { a.Actions = []string{""} },
		} {
			a := qapp(1)
			mut(&a)
			_, err := s.CreateQApp(t.Context(), a, by("admin:test"))
			wantPlainErr(t, "create "+name, err)
		}
		a, err := s.CreateQApp(t.Context(), qapp(1), by("admin:test"))
		if err != nil {
			t.Fatal(err)
		}
		a.Groups = []string{"x", "x"}
		_, err = s.UpdateQApp(t.Context(), a, by("admin:test"))
		wantPlainErr(t, "update dup group", err)
		_, err = s.CreateQApp(t.Context(), qapp(2), store.AuditEntry{})
		wantPlainErr(t, "create without actor", err)
	})

	t.Run("Consent", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := t.Context()
		a, err := s.CreateQApp(ctx, qapp(1), by("admin:test"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.GetQAppConsent(ctx, a.ID, "alice")
		wantErr(t, "consent before grant", err, store.ErrNotFound)
		at := time.Date(2031, 1, 1, 0, 0, 0, 1500, time.UTC)
		if err := s.GrantQAppConsent(ctx, store.QAppConsent{AppID: a.ID, UserID: "alice", GrantedAt: at}, by("user:alice")); err != nil {
			t.Fatalf("GrantQAppConsent: %v", err)
		}
		if err := s.GrantQAppConsent(ctx, store.QAppConsent{AppID: a.ID, UserID: "alice", GrantedAt: at.Add(time.Hour)}, by("user:alice")); err != nil {
			t.Fatalf("GrantQAppConsent twice: %v", err)
		}
		c, err := s.GetQAppConsent(ctx, a.ID, "alice")
		if err != nil || !c.GrantedAt.Equal(at.Truncate(time.Microsecond)) {
			t.Errorf("GetQAppConsent = %+v, %v; want the first grant at %v", c, err, at)
		}
		err = s.GrantQAppConsent(ctx, store.QAppConsent{AppID: "missing", UserID: "alice"}, by("user:alice"))
		wantErr(t, "consent to a missing app", err, store.ErrNotFound)
		if _, err := s.DeleteQApp(ctx, a.ID, by("admin:test")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateQApp(ctx, qapp(1), by("admin:test")); err != nil {
			t.Fatal(err)
		}
		_, err = s.GetQAppConsent(ctx, a.ID, "alice")
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("consent survived deleting the app: %v", err)
		}
		n := 0
		for _, e := range allAudit(t, s) {
			if e.Action == "qapp.consent" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("consent audit entries = %d, want 1", n)
		}
	})
}
