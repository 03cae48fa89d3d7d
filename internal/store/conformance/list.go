package conformance

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// walk lists every page and returns the addresses in order plus page sizes.
func walk(t *testing.T, s store.Store, opts store.ListOptions) (addrs []string, sizes []int) {
	t.Helper()
	for range 1000 {
		page, err := s.ListMappings(t.Context(), opts)
		if err != nil {
			t.Fatalf("ListMappings(%+v): %v", opts, err)
		}
		for _, m := range page.Mappings {
			addrs = append(addrs, m.QortalAddress)
		}
		sizes = append(sizes, len(page.Mappings))
		if page.NextCursor == "" {
			return addrs, sizes
		}
		opts.Cursor = page.NextCursor
	}
	t.Fatal("ListMappings never returned an empty NextCursor")
	return nil, nil
}

func runMappingList(t *testing.T, newStore NewStore) {
	t.Run("PagesCoverEverythingOnceInOrder", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		var want []string
		for _, i := range rand.Perm(120) { // insertion order must not matter
			m := mustCreate(t, s, mapping(i))
			want = append(want, m.QortalAddress)
		}
		slices.Sort(want)
		got, sizes := walk(t, s, store.ListOptions{Limit: 50})
		if !slices.Equal(got, want) {
			t.Errorf("pages gave %d addresses %v...; want the %d sorted addresses", len(got), got[:min(5, len(got))], len(want))
		}
		if !slices.Equal(sizes, []int{50, 50, 20}) {
			t.Errorf("page sizes = %v, want [50 50 20]", sizes)
		}
		// Walking again gives the same pages: the order is stable.
		again, _ := walk(t, s, store.ListOptions{Limit: 50})
		if !slices.Equal(again, got) {
			t.Error("a second walk gave a different order")
		}
		// Full pages are returned whole; the page after the last is empty.
		page, err := s.ListMappings(t.Context(), store.ListOptions{Limit: 120})
		if err != nil || len(page.Mappings) != 120 || page.NextCursor != "" {
			t.Errorf("Limit 120: %d mappings, cursor %q, err %v; want all 120 and no cursor",
				len(page.Mappings), page.NextCursor, err)
		}
	})

	t.Run("DefaultAndMaximumLimit", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for i := range 60 {
			mustCreate(t, s, mapping(i))
		}
		page, err := s.ListMappings(t.Context(), store.ListOptions{})
		if err != nil || len(page.Mappings) != 50 || page.NextCursor == "" {
			t.Errorf("Limit 0: %d mappings, cursor %q, err %v; want the default 50 and a cursor",
				len(page.Mappings), page.NextCursor, err)
		}
		page, err = s.ListMappings(t.Context(), store.ListOptions{Limit: 100000})
		if err != nil || len(page.Mappings) != 60 || page.NextCursor != "" {
			t.Errorf("huge limit: %d mappings, cursor %q, err %v; want all 60", len(page.Mappings), page.NextCursor, err)
		}
		empty := newStore(t)
		page, err = empty.ListMappings(t.Context(), store.ListOptions{})
		if err != nil || len(page.Mappings) != 0 || page.NextCursor != "" {
			t.Errorf("empty store: %+v, %v", page, err)
		}
	})

	t.Run("CursorSurvivesInserts", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for i := 10; i < 30; i++ {
			mustCreate(t, s, mapping(i))
		}
		first, err := s.ListMappings(t.Context(), store.ListOptions{Limit: 5})
		if err != nil || len(first.Mappings) != 5 {
			t.Fatalf("first page: %d, %v", len(first.Mappings), err)
		}
		mustCreate(t, s, mapping(1))  // sorts before the cursor
		mustCreate(t, s, mapping(99)) // sorts after it
		// Deleting the cursor's own row must not break it either.
		if _, err := s.DeleteMapping(t.Context(), first.Mappings[4].QortalAddress, by("admin:test")); err != nil {
			t.Fatal(err)
		}
		rest, _ := walk(t, s, store.ListOptions{Limit: 5, Cursor: first.NextCursor})
		var want []string
		for i := 15; i < 30; i++ {
			want = append(want, mapping(i).QortalAddress)
		}
		want = append(want, mapping(99).QortalAddress)
		if !slices.Equal(rest, want) {
			t.Errorf("after inserts the cursor gave %v, want %v", rest, want)
		}
	})

	t.Run("QueryMatchesAnyFieldCaseInsensitively", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for i := range 10 {
			mustCreate(t, s, mapping(i))
		}
		specials := []store.Mapping{
			{QortalAddress: "QNeedleAddr", NextcloudUserID: "plain1", Status: store.StatusLinked},
			{QortalAddress: "Qplain2", NextcloudUserID: "has_needle_id", Status: store.StatusInvited},
			{QortalAddress: "Qplain3", NextcloudUserID: "plain3", DisplayName: "Big NEEDLE", Status: store.StatusBlocked},
			{QortalAddress: "Qplain4", NextcloudUserID: "plain4", Email: "needle@example.org", Status: store.StatusLinked},
			{QortalAddress: "Qpct", NextcloudUserID: "pct", DisplayName: "100% sure", Status: store.StatusLinked},
			{QortalAddress: "Qunder", NextcloudUserID: "a_b", Status: store.StatusLinked},
			{QortalAddress: "Qslash", NextcloudUserID: "back", DisplayName: `back\slash`, Status: store.StatusLinked},
		}
		for _, m := range specials {
			mustCreate(t, s, m)
		}
		for _, tc := range []struct {
			q    string
			want []string
		}{
			{"needle", []string{"QNeedleAddr", "Qplain2", "Qplain3", "Qplain4"}},
			{"NeEdLe", []string{"QNeedleAddr", "Qplain2", "Qplain3", "Qplain4"}},
			{"%", []string{"Qpct"}},              // a literal percent, not "anything"
			{"_", []string{"Qplain2", "Qunder"}}, // a literal underscore, not "any one character"
			{`\`, []string{"Qslash"}},
			{"user 7", []string{mapping(7).QortalAddress}},
			{"USER0003", []string{mapping(3).QortalAddress}},
			{"nothing-matches", nil},
		} {
			got, _ := walk(t, s, store.ListOptions{Query: tc.q, Limit: 2})
			if !slices.Equal(got, tc.want) {
				t.Errorf("q=%q gave %v, want %v", tc.q, got, tc.want)
			}
		}
	})

	t.Run("InvalidCursor", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for i := range 3 {
			mustCreate(t, s, mapping(i))
		}
		if err := s.AppendAudit(t.Context(), store.AuditEntry{Actor: "system", Action: "x"}); err != nil {
			t.Fatal(err)
		}
		auditPage, err := s.ListAudit(t.Context(), store.ListOptions{Limit: 1})
		if err != nil || auditPage.NextCursor == "" {
			t.Fatalf("need an audit cursor: %+v, %v", auditPage, err)
		}
		for _, c := range []string{
			"not base64!",
			base64.RawURLEncoding.EncodeToString([]byte("garbage")),
			auditPage.NextCursor, // from another listing
			fmt.Sprintf("%x", "Qaddr0001"),
		} {
			_, err := s.ListMappings(t.Context(), store.ListOptions{Cursor: c})
			wantErr(t, fmt.Sprintf("ListMappings(cursor %q)", c), err, store.ErrInvalidCursor)
		}
	})
}
