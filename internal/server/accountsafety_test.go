package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// Issue 7 item 1: Nextcloud resolves user ids without case. Before the fix
// an upsert naming "BOBNC" for a second address answered 200 with a mapping
// to "BOBNC" while bobnc was linked: two addresses into one account.
func TestCaseVariantUserIDIsTheSameAccount(t *testing.T) {
	accts := qortaltest.Accounts(t)
	alice, bob := accts["alice"], accts["bob"]
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		nc := newFakeNextcloud(t)
		nc.AddUser(ocsfake.User{ID: "bobnc", DisplayName: "Bob NC"})
		b := newBroker(t, open(t), nc)

		// The id is stored as Nextcloud spells it, whatever the request said.
		r := b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": bob.Address, "nextcloudUserId": "BobNC"})
		if r.Status != http.StatusOK || r.Body["nextcloudUserId"] != "bobnc" {
			t.Fatalf("link by a case variant: %d %s; want 200 with the canonical id bobnc", r.Status, r.Raw)
		}
		for _, path := range []string{"/api/provision/upsert", "/api/provision/link"} {
			r = b.do("POST", path, map[string]any{"qortalAddress": alice.Address, "nextcloudUserId": "BOBNC"})
			if r.Status != http.StatusConflict || r.errCode() != "user_linked" || !strings.Contains(r.Raw, bob.Address) {
				t.Fatalf("%s of a case variant for a second address: %d %s; want 409 user_linked naming %s", path, r.Status, r.Raw, bob.Address)
			}
		}
		if _, err := b.store.GetMappingByAddress(context.Background(), alice.Address); err == nil {
			t.Fatal("the refused case variant left a mapping")
		}
		// The same address asking again in another case is the same link.
		r = b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": bob.Address, "nextcloudUserId": "BOBNC"})
		if r.Status != http.StatusOK || r.Body["nextcloudUserId"] != "bobnc" {
			t.Fatalf("repeat in another case: %d %s", r.Status, r.Raw)
		}
	})
}

// Issue 7 item 2: an account under the derived id that the broker did not
// create is never linked silently (before: linked, so whoever pre-created it
// kept its password). Naming it on purpose still links it.
func TestPreExistingAccountIsNotTakenOver(t *testing.T) {
	accts := qortaltest.Accounts(t)
	alice := accts["alice"]
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		nc := newFakeNextcloud(t)
		nc.AddUser(ocsfake.User{ID: alice.Address, DisplayName: "Planted"}) // the template is {address}
		b := newBroker(t, open(t), nc)

		for i := 0; i < 2; i++ { // and it stays refused
			r := b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address})
			if r.Status != http.StatusConflict || r.errCode() != "nextcloud_user_exists" ||
				!strings.Contains(r.Raw, "/api/provision/link") || !strings.Contains(r.Raw, "nextcloudUserId") {
				t.Fatalf("upsert over a pre-existing account: %d %s; want 409 nextcloud_user_exists saying how to link", r.Status, r.Raw)
			}
		}
		if _, err := b.store.GetMappingByAddress(context.Background(), alice.Address); err == nil {
			t.Fatal("the pre-existing account was linked")
		}
		if _, err := b.store.GetProvisionIntent(context.Background(), alice.Address); err == nil {
			t.Fatal("a refused upsert left a provision intent")
		}
		// On purpose: the admin names it.
		r := b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address, "nextcloudUserId": alice.Address})
		if r.Status != http.StatusOK || r.Body["linked"] != true || r.Body["created"] != false {
			t.Fatalf("named upsert: %d %s", r.Status, r.Raw)
		}
		if nc.CreateCount() != 0 {
			t.Fatal("a user was created")
		}
	})
}

// Issue 7 item 2, crash recovery: the intent recorded before the create
// lets the next call link the account the broker itself made, and after an
// unlink the same account is no longer linked without being named.
func TestCrashRecoveryUsesTheRecordedIntent(t *testing.T) {
	accts := qortaltest.Accounts(t)
	alice := accts["alice"]
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		nc := newFakeNextcloud(t)
		b := newBroker(t, open(t), nc)
		nc.CrashAfterCreate(1)
		if r := b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address}); r.Status != http.StatusBadGateway {
			t.Fatalf("interrupted call: %d %s", r.Status, r.Raw)
		}
		in, err := b.store.GetProvisionIntent(context.Background(), alice.Address)
		if err != nil || in.NextcloudUserID != alice.Address {
			t.Fatalf("intent after the crash: %+v, %v", in, err)
		}
		r := b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address})
		if r.Status != http.StatusOK || r.Body["linked"] != true {
			t.Fatalf("healing call: %d %s", r.Status, r.Raw)
		}
		if nc.CreateCount() != 1 {
			t.Fatalf("%d creates, want 1", nc.CreateCount())
		}
		if _, err := b.store.GetProvisionIntent(context.Background(), alice.Address); err == nil {
			t.Fatal("the intent outlived the mapping")
		}
		if d := b.do("DELETE", "/api/provision/mapping/"+alice.Address, nil); d.Status != http.StatusOK {
			t.Fatalf("unlink: %d %s", d.Status, d.Raw)
		}
		if r := b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address}); r.Status != http.StatusConflict || r.errCode() != "nextcloud_user_exists" {
			t.Fatalf("after unlink an unnamed upsert must not relink silently: %d %s", r.Status, r.Raw)
		}
	})
}

// Issue 7 item 6: default_groups apply when an existing user is linked, and
// create_missing_groups works for new users (the create call itself would be
// refused by Nextcloud for a missing group).
func TestGroupsOnCreateAndLink(t *testing.T) {
	accts := qortaltest.Accounts(t)
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		nc := newFakeNextcloud(t)
		nc.AddUser(ocsfake.User{ID: "carol"})
		nc.AddUser(ocsfake.User{ID: "dave"})
		b := newBroker(t, open(t), nc, func(c *configT) {
			c.Provision.DefaultGroups = []string{"qortal"}
			c.Nextcloud.CreateMissingGroups = true
		})
		r := b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": accts["alice"].Address, "groups": []string{"newgrp"}})
		if r.Status != http.StatusCreated {
			t.Fatalf("create with missing groups: %d %s", r.Status, r.Raw)
		}
		u, _ := nc.User(accts["alice"].Address)
		if !contains(u.Groups, "qortal") || !contains(u.Groups, "newgrp") {
			t.Fatalf("new user groups %v, want qortal and newgrp", u.Groups)
		}
		if r := b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": accts["bob"].Address, "nextcloudUserId": "carol"}); r.Status != http.StatusOK {
			t.Fatalf("upsert-link: %d %s", r.Status, r.Raw)
		}
		if r := b.do("POST", "/api/provision/link", map[string]any{"qortalAddress": accts["chloe"].Address, "nextcloudUserId": "dave"}); r.Status != http.StatusOK {
			t.Fatalf("link: %d %s", r.Status, r.Raw)
		}
		for _, id := range []string{"carol", "dave"} {
			if u, _ := nc.User(id); !contains(u.Groups, "qortal") {
				t.Fatalf("linked user %s groups %v, want the default group qortal", id, u.Groups)
			}
		}
	})
}

// Issue 7 item 7: maintenance mode is 503 nextcloud_unavailable with
// Retry-After (not a generic 502), and a create that outlives the client's
// timeout is linked by the next call, not duplicated.
func TestNextcloudMaintenanceAndSlowCreate(t *testing.T) {
	accts := qortaltest.Accounts(t)
	alice := accts["alice"]
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		nc := newFakeNextcloud(t)
		b := newBroker(t, open(t), nc, func(c *configT) { c.Nextcloud.Timeout = 300 * time.Millisecond })
		nc.SetMaintenance(true)
		r := b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address})
		if r.Status != http.StatusServiceUnavailable || r.errCode() != "nextcloud_unavailable" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("maintenance: %d %s (Retry-After %q); want 503 nextcloud_unavailable with Retry-After", r.Status, r.Raw, r.Header.Get("Retry-After"))
		}
		nc.SetMaintenance(false)

		// Real creates take 2-3 s; here longer than the client waits.
		nc.SetCreateDelay(time.Second)
		r = b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address})
		if r.Status != http.StatusBadGateway || r.errCode() != "nextcloud_unreachable" {
			t.Fatalf("timed-out create: %d %s", r.Status, r.Raw)
		}
		nc.SetCreateDelay(0)
		r = b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address})
		if r.Status != http.StatusOK || r.Body["linked"] != true {
			t.Fatalf("after the slow create: %d %s", r.Status, r.Raw)
		}
		if nc.CreateCount() != 1 {
			t.Fatalf("%d creates, want 1", nc.CreateCount())
		}
	})
}
