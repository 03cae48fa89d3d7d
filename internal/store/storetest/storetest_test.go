package storetest

import (
	"errors"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func link(t *testing.T, st store.Store, uid string) {
	t.Helper()
	m := store.Mapping{QortalAddress: "Q" + uid + "Address", NextcloudUserID: uid, Status: store.StatusLinked}
	if _, err := st.CreateMapping(t.Context(), m, store.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
}

func TestSharedHandlesSeeOneDatabase(t *testing.T) {
	for _, k := range Kinds() {
		t.Run(string(k), func(t *testing.T) {
			open := Shared(t, k)
			a, b := open(t), open(t)
			link(t, a, "alice")
			if _, err := b.GetMappingByUser(t.Context(), "alice"); err != nil {
				t.Fatalf("second handle does not see the first one's write: %v", err)
			}
		})
	}
}

func TestForEachGivesFreshStores(t *testing.T) {
	seen := map[string]bool{}
	ForEach(t, func(t *testing.T, open Opener) {
		seen[t.Name()] = true
		a, b := open(t), open(t)
		link(t, a, "alice")
		if _, err := b.GetMappingByUser(t.Context(), "alice"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a fresh store holds another store's mapping (err %v)", err)
		}
	})
	if len(seen) != len(Kinds()) {
		t.Fatalf("ForEach ran %d backends, want %d", len(seen), len(Kinds()))
	}
}
