package server

import (
	"context"
	"net/http"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// Issue 7 item 5: app passwords from Login Flow v2 outlive the broker's
// tokens, so blocking must also disable the Nextcloud account (enabled
// again on unblock), and block and unlink end the address's sessions with
// back-channel logout. Before the fix neither happened.
func TestBlockAndUnlinkEndNextcloudAccess(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			e := newSSOEnv(t, kind)
			nc := e.c.admin.nc
			login := func() *oidc.Tokens[*oidc.IDTokenClaims] {
				t.Helper()
				b := newBrowser(t, e.c)
				o := b.authorize(e.relying, e.chall)
				cb, _ := b.sign(o.id, e.alice)
				return e.exchange(t, cb)
			}
			prov := e.c.replicas[0].provision
			// An app password, as Login Flow v2 gives desktop and mobile clients.
			nc.AddAccount("alice", "alice-app-password-0123", false)
			appPasswordWorks := func() bool {
				t.Helper()
				req, _ := http.NewRequest(http.MethodGet, nc.URL()+"/ocs/v2.php/cloud/user?format=json", nil)
				req.SetBasicAuth("alice", "alice-app-password-0123")
				req.Header.Set("OCS-APIRequest", "true")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode == http.StatusOK
			}
			if !appPasswordWorks() {
				t.Fatal("setup: the app password does not work")
			}

			tokens := login()
			before := e.bc.count()
			if _, err := prov.SetStatus(t.Context(), "admin:test", e.alice.Address, store.StatusBlocked); err != nil {
				t.Fatal(err)
			}
			e.bc.wait(t, before+1)
			if u, _ := nc.User("alice"); !u.Disabled || appPasswordWorks() {
				t.Fatal("block left the Nextcloud account enabled (its app passwords keep working)")
			}
			if _, err := rp.Userinfo[*oidc.UserInfo](context.Background(), tokens.AccessToken, "Bearer", "alice", e.relying); err == nil {
				t.Error("an access token still works after the block")
			}
			// Blocking again is harmless and repeats the disable (retry after a failure).
			if _, err := prov.SetStatus(t.Context(), "admin:test", e.alice.Address, store.StatusBlocked); err != nil {
				t.Fatal(err)
			}
			// An unblock Nextcloud cannot carry out leaves the address blocked.
			nc.SetMaintenance(true)
			if _, err := prov.SetStatus(t.Context(), "admin:test", e.alice.Address, store.StatusLinked); err == nil {
				t.Error("unblock with Nextcloud in maintenance reported success")
			}
			nc.SetMaintenance(false)
			if m, _ := e.c.admin.store.GetMappingByAddress(t.Context(), e.alice.Address); m.Status != store.StatusBlocked {
				t.Fatalf("status %s after the unblock whose Nextcloud call failed, want still blocked", m.Status)
			}
			if _, err := prov.SetStatus(t.Context(), "admin:test", e.alice.Address, store.StatusLinked); err != nil {
				t.Fatal(err)
			}
			if u, _ := nc.User("alice"); u.Disabled || !appPasswordWorks() {
				t.Fatal("unblock left the Nextcloud account disabled")
			}

			// Unlink: back-channel logout; the account itself is kept enabled.
			login()
			before = e.bc.count()
			if r := e.c.admin.do("DELETE", "/api/provision/mapping/"+e.alice.Address, nil); r.Status != http.StatusOK {
				t.Fatalf("unlink: %d %s", r.Status, r.Raw)
			}
			e.bc.wait(t, before+1)
			if u, ok := nc.User("alice"); !ok || u.Disabled {
				t.Fatalf("unlink must keep the Nextcloud account as it is: %+v %v", u, ok)
			}
			// What the README says survives an unlink: the app password.
			if !appPasswordWorks() {
				t.Error("the app password stopped after unlink; the README says it survives")
			}
		})
	}
}

// provision.disable_blocked_users=false keeps the Nextcloud account enabled.
func TestBlockWithoutDisablingNextcloud(t *testing.T) {
	nc := newFakeNextcloud(t)
	b := newBroker(t, storetest.Open(t, storetest.SQLite), nc, func(c *config.Config) { c.Provision.DisableBlockedUsers = false })
	addr := "QgV4s3xnzLhVBEJxcYui4u4q11yhUHsd9v"
	if r := b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": addr}); r.Status != http.StatusCreated {
		t.Fatalf("upsert: %d %s", r.Status, r.Raw)
	}
	if _, err := b.srv.provision.SetStatus(t.Context(), "admin:test", addr, store.StatusBlocked); err != nil {
		t.Fatal(err)
	}
	if u, _ := nc.User(addr); u.Disabled || nc.Requests("PUT cloud/users/{id}/disable") != 0 {
		t.Fatal("the Nextcloud account was disabled although provision.disable_blocked_users is false")
	}
}

// The JSON API blocks and unblocks with the same effects as the console:
// tokens stop, sessions end with back-channel logout, the Nextcloud account
// is disabled, and unblocking enables it again; "invited" is not an admin's
// choice.
func TestBlockAndUnblockThroughTheAPI(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			e := newSSOEnv(t, kind)
			nc := e.c.admin.nc
			b := newBrowser(t, e.c)
			o := b.authorize(e.relying, e.chall)
			cb, _ := b.sign(o.id, e.alice)
			tokens := e.exchange(t, cb)

			path := "/api/provision/mapping/" + e.alice.Address + "/status"
			before := e.bc.count()
			r := e.c.admin.do("PUT", path, map[string]any{"status": "blocked"})
			if r.Status != http.StatusOK || r.Body["status"] != "blocked" {
				t.Fatalf("block: %d %s", r.Status, r.Raw)
			}
			e.bc.wait(t, before+1)
			if u, _ := nc.User("alice"); !u.Disabled {
				t.Error("block through the API left the Nextcloud account enabled")
			}
			if _, err := rp.Userinfo[*oidc.UserInfo](context.Background(), tokens.AccessToken, "Bearer", "alice", e.relying); err == nil {
				t.Error("an access token still works after the block")
			}
			if r := e.c.admin.do("PUT", path, map[string]any{"status": "invited"}); r.Status != http.StatusBadRequest {
				t.Errorf("status invited: %d %s, want 400", r.Status, r.Raw)
			}
			if r := e.c.admin.do("PUT", path, map[string]any{"status": "linked"}); r.Status != http.StatusOK || r.Body["status"] != "linked" {
				t.Fatalf("unblock: %d %s", r.Status, r.Raw)
			}
			if u, _ := nc.User("alice"); u.Disabled {
				t.Error("unblock through the API left the Nextcloud account disabled")
			}
			if m, _ := e.c.admin.store.GetMappingByAddress(t.Context(), e.alice.Address); m.Status != store.StatusLinked {
				t.Errorf("status %s after unblock, want linked", m.Status)
			}
		})
	}
}
