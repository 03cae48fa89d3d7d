package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
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

// TestBlockInStandalone: without Nextcloud an address signs in as itself
// with no mapping; an admin can still block it. The block signs it out
// (its access token stops working, its broker session ends), refuses its
// next login, and unblocking gives back the same subject.
func TestBlockInStandalone(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			c := newCluster(t, storetest.Shared(t, kind), newFakeNextcloud(t), 2, "ES256", func(cfg *config.Config) { cfg.Nextcloud = config.Nextcloud{} })
			relying, err := rp.NewRelyingPartyOIDC(context.Background(), c.issuer, rpID, rpSecret, rpRedirect, []string{"openid"},
				rp.WithVerifierOpts(rp.WithNonce(func(context.Context) string { return "" })))
			if err != nil {
				t.Fatal(err)
			}
			verifier, challenge := pkcePair()
			exchange := func(cb *url.URL) *oidc.Tokens[*oidc.IDTokenClaims] {
				t.Helper()
				tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](context.Background(), cb.Query().Get("code"), relying, rp.WithCodeVerifier(verifier))
				if err != nil {
					t.Fatalf("code exchange: %v", err)
				}
				return tokens
			}
			alice := qortaltest.Accounts(t)["alice"]
			b := newBrowser(t, c)
			o := b.authorize(relying, challenge)
			cb, _ := b.sign(o.id, alice)
			tokens := exchange(cb)
			if tokens.IDTokenClaims.Subject != alice.Address {
				t.Fatalf("standalone sub = %q, want the address", tokens.IDTokenClaims.Subject)
			}
			path := "/api/provision/mapping/" + alice.Address + "/status"
			if r := c.admin.do("PUT", path, map[string]any{"status": "linked"}); r.Status != http.StatusNotFound {
				t.Errorf("unblocking an address that was never blocked: %d %s, want 404", r.Status, r.Raw)
			}
			r := c.admin.do("PUT", path, map[string]any{"status": "blocked"})
			if r.Status != http.StatusOK || r.Body["status"] != "blocked" || r.Body["qortalAddress"] != alice.Address {
				t.Fatalf("block: %d %s", r.Status, r.Raw)
			}
			if r := c.admin.do("PUT", path, map[string]any{"status": "blocked"}); r.Status != http.StatusOK {
				t.Errorf("blocking again: %d %s, want 200", r.Status, r.Raw)
			}
			if _, err := rp.Userinfo[*oidc.UserInfo](context.Background(), tokens.AccessToken, "Bearer", alice.Address, relying); err == nil {
				t.Error("an access token still works after the block")
			}
			o = b.authorize(relying, challenge)
			if !o.page {
				t.Fatal("the blocked address's broker session still signs it in")
			}
			if status, code := signRefused(t, c, o.id, alice); status != http.StatusForbidden || code != "blocked" {
				t.Errorf("a blocked address's signature: %d %q, want 403 blocked", status, code)
			}
			if r := c.admin.do("PUT", path, map[string]any{"status": "linked"}); r.Status != http.StatusOK || r.Body["status"] != "linked" {
				t.Fatalf("unblock: %d %s", r.Status, r.Raw)
			}
			o = b.authorize(relying, challenge)
			cb, _ = b.sign(o.id, alice)
			if got := exchange(cb).IDTokenClaims.Subject; got != alice.Address {
				t.Errorf("sub after unblocking = %q, want the address, as before", got)
			}
			// Another address, never blocked, signs in all along.
			bob := newBrowser(t, c)
			o = bob.authorize(relying, challenge)
			if cb, _ := bob.sign(o.id, qortaltest.Accounts(t)["bob"]); exchange(cb).IDTokenClaims.Subject != qortaltest.Accounts(t)["bob"].Address {
				t.Error("bob's standalone sign-in")
			}
		})
	}
}

// signRefused signs the login page's challenge as acct and returns the
// status and error code the proof was refused with.
func signRefused(t *testing.T, c *cluster, id string, acct qortaltest.Account) (int, string) {
	t.Helper()
	post := func(path string, body map[string]string) (int, map[string]any) {
		j, _ := json.Marshal(body)
		res, err := http.Post(c.issuer+path, "application/json", bytes.NewReader(j))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	status, ch := post("/login/challenge", map[string]string{"authRequestId": id, "qortalAddress": acct.Address})
	if status != http.StatusOK {
		t.Fatalf("challenge: %d %v", status, ch)
	}
	p := qortal.Sign(acct.PrivateKey, []byte(ch["message"].(string)))
	status, out := post("/login/verify", map[string]string{"challengeId": ch["challengeId"].(string), "publicKey": p.PublicKey, "signature": p.Signature})
	e, _ := out["error"].(map[string]any)
	code, _ := e["code"].(string)
	return status, code
}
