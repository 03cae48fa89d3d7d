package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

func TestUpsertCreatesOnceAndIsIdempotent(t *testing.T) {
	accts := qortaltest.Accounts(t)
	alice := accts["alice"]
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		b := newBroker(t, open(t), newFakeNextcloud(t))
		body := map[string]any{"qortalAddress": alice.Address, "displayName": "Alice", "email": "alice@example.org", "groups": []string{"admin"}}

		first := b.do("POST", "/api/provision/upsert", body)
		if first.Status != http.StatusCreated || first.Body["created"] != true || first.Body["linked"] != true ||
			first.Body["nextcloudUserId"] != alice.Address || first.Body["qortalAddress"] != alice.Address {
			t.Fatalf("first upsert: %d %s", first.Status, first.Raw)
		}
		u, ok := b.nc.User(alice.Address)
		if !ok || u.DisplayName != "Alice" || u.Email != "alice@example.org" || !contains(u.Groups, "admin") {
			t.Fatalf("nextcloud user not created as asked: %+v", u)
		}
		if len(u.Password) < 20 {
			t.Fatalf("generated password too weak: %d chars", len(u.Password))
		}
		if strings.Contains(b.logs.String(), u.Password) || strings.Contains(b.logs.String(), ncPassword) {
			t.Fatal("a password reached the log")
		}

		second := b.do("POST", "/api/provision/upsert", body)
		if second.Status != http.StatusOK || second.Body["created"] != false || second.Body["nextcloudUserId"] != alice.Address {
			t.Fatalf("second upsert: %d %s", second.Status, second.Raw)
		}
		if n := b.nc.CreateCount(); n != 1 {
			t.Fatalf("nextcloud users created: %d, want 1", n)
		}

		audit, err := b.store.ListAudit(context.Background(), store.ListOptions{})
		if err != nil || len(audit.Entries) != 1 || audit.Entries[0].Action != "mapping.create" ||
			audit.Entries[0].Actor != "admin:test" || audit.Entries[0].Subject != alice.Address {
			t.Fatalf("audit: %+v %v", audit.Entries, err)
		}
	})
}

func TestUpsertLinksExistingAndTemplate(t *testing.T) {
	accts := qortaltest.Accounts(t)
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		nc := newFakeNextcloud(t)
		nc.AddUser(ocsfake.User{ID: "bob", DisplayName: "Bob Existing", Email: "bob@example.org"})
		b := newBroker(t, open(t), nc, func(c *configT) { c.Provision.UserIDTemplate = "q-{address_lower}" })

		r := b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": accts["bob"].Address, "nextcloudUserId": "bob"})
		if r.Status != http.StatusOK || r.Body["created"] != false || r.Body["nextcloudUserId"] != "bob" {
			t.Fatalf("link existing: %d %s", r.Status, r.Raw)
		}
		m := r.Body["mapping"].(map[string]any)
		if m["displayName"] != "Bob Existing" || m["email"] != "bob@example.org" {
			t.Fatalf("mapping should take the Nextcloud profile: %v", m)
		}
		r = b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": accts["chloe"].Address})
		want := "q-" + strings.ToLower(accts["chloe"].Address)
		if r.Status != http.StatusCreated || r.Body["nextcloudUserId"] != want {
			t.Fatalf("template: %d %s", r.Status, r.Raw)
		}
	})
}

func TestUpsertConflictsSayWhich(t *testing.T) {
	accts := qortaltest.Accounts(t)
	alice, bob := accts["alice"], accts["bob"]
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		nc := newFakeNextcloud(t)
		nc.AddUser(ocsfake.User{ID: "carol"})
		b := newBroker(t, open(t), nc)
		if r := b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address}); r.Status != http.StatusCreated {
			t.Fatalf("setup: %s", r.Raw)
		}
		r := b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address, "nextcloudUserId": "carol"})
		if r.Status != http.StatusConflict || r.errCode() != "address_linked" || !strings.Contains(r.Raw, alice.Address) {
			t.Fatalf("address conflict: %d %s", r.Status, r.Raw)
		}
		r = b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": bob.Address, "nextcloudUserId": alice.Address})
		if r.Status != http.StatusConflict || r.errCode() != "user_linked" || !strings.Contains(r.Raw, alice.Address) {
			t.Fatalf("user conflict: %d %s", r.Status, r.Raw)
		}
		r = b.do("POST", "/api/provision/link", map[string]any{"qortalAddress": bob.Address, "nextcloudUserId": alice.Address})
		if r.Status != http.StatusConflict || r.errCode() != "user_linked" {
			t.Fatalf("link conflict: %d %s", r.Status, r.Raw)
		}
	})
}

func TestInputValidation(t *testing.T) {
	accts := qortaltest.Accounts(t)
	alice := accts["alice"]
	badChecksum := alice.Address[:len(alice.Address)-1] + flipChar(alice.Address[len(alice.Address)-1])
	b := newBroker(t, storetest.Open(t, storetest.SQLite), newFakeNextcloud(t))
	cases := []struct {
		name, path string
		body       any
		status     int
		code       string
	}{
		{"bad checksum", "/api/provision/upsert", map[string]any{"qortalAddress": badChecksum}, 400, "invalid_address"},
		{"missing address", "/api/provision/upsert", map[string]any{}, 400, "invalid_address"},
		{"unknown field", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address, "password": "x"}, 400, "unknown_field"},
		{"not json", "/api/provision/upsert", "{nope", 400, "invalid_json"},
		{"empty body", "/api/provision/upsert", "", 400, "invalid_request"},
		{"trailing data", "/api/provision/upsert", `{"qortalAddress":"` + alice.Address + `"} {}`, 400, "invalid_json"},
		{"wrong type", "/api/provision/upsert", map[string]any{"qortalAddress": 7}, 400, "invalid_request"},
		{"bad user id", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address, "nextcloudUserId": "a/b"}, 400, "invalid_user_id"},
		{"bad email", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address, "email": "Alice <a@b.c>"}, 400, "invalid_email"},
		{"bad group", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address, "groups": []string{""}}, 400, "invalid_groups"},
		{"link needs user", "/api/provision/link", map[string]any{"qortalAddress": alice.Address}, 400, "invalid_user_id"},
		{"challenge bad address", "/api/provision/challenge", map[string]any{"qortalAddress": "Qnope"}, 400, "invalid_address"},
		{"wallet missing fields", "/api/provision/upsert-from-wallet", map[string]any{"challengeId": "x"}, 400, "invalid_request"},
		{"wallet unknown challenge", "/api/provision/upsert-from-wallet", map[string]any{"challengeId": "x", "publicKey": alice.PublicKey58, "signature": "y"}, 404, "challenge_not_found"},
		{"bad limit", "/api/provision/mappings?limit=0", nil, 400, "invalid_limit"},
		{"bad cursor", "/api/provision/mappings?cursor=%21%21", nil, 400, "invalid_cursor"},
		{"get bad address", "/api/provision/mapping/nope", nil, 400, "invalid_address"},
		{"get unknown", "/api/provision/mapping/" + alice.Address, nil, 404, "mapping_not_found"},
		{"delete unknown", "/api/provision/mapping/" + alice.Address, nil, 404, "mapping_not_found"},
	}
	for _, tc := range cases {
		method := "POST"
		if strings.Contains(tc.path, "mapping") {
			method = "GET"
			if tc.name == "delete unknown" {
				method = "DELETE"
			}
		}
		r := b.do(method, tc.path, tc.body)
		if r.Status != tc.status || r.errCode() != tc.code {
			t.Errorf("%s: got %d %s, want %d %s", tc.name, r.Status, r.Raw, tc.status, tc.code)
		}
	}
	if n := len(b.nc.Users()); n != 1 { // only the service account
		t.Fatalf("bad input must not touch Nextcloud; users now %v", b.nc.Users())
	}
}

func TestAdminAuthentication(t *testing.T) {
	b := newBroker(t, storetest.Open(t, storetest.SQLite), newFakeNextcloud(t))
	path := "/api/provision/mappings"
	if r := b.do("GET", path, nil, "Authorization", ""); r.Status != 401 || r.errCode() != "unauthorized" || r.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no credential: %d %s", r.Status, r.Raw)
	}
	if r := b.do("GET", path, nil, "Authorization", "Bearer wrong-token-xxxxxxxx"); r.Status != 401 || !strings.Contains(r.Raw, "not valid") {
		t.Fatalf("bad credential: %d %s", r.Status, r.Raw)
	}
	if r := b.do("GET", path, nil, "Authorization", "", "X-Broker-Internal-Token", adminToken); r.Status != 200 {
		t.Fatalf("X-Broker-Internal-Token: %d %s", r.Status, r.Raw)
	}
	if r := b.do("GET", path, nil, "Authorization", "Basic "+adminToken); r.Status != 401 {
		t.Fatalf("non-bearer scheme: %d", r.Status)
	}
	// Guessing is throttled per IP.
	limited := false
	for i := 0; i < 40 && !limited; i++ {
		r := b.do("GET", path, nil, "Authorization", fmt.Sprintf("Bearer guess-%d-xxxxxxxxxx", i))
		limited = r.Status == http.StatusTooManyRequests && r.Header.Get("Retry-After") != ""
	}
	if !limited {
		t.Fatal("repeated bad credentials were never rate limited")
	}
	if strings.Contains(b.logs.String(), adminToken) {
		t.Fatal("admin token reached the log")
	}
}

func TestLinkUnlinkGet(t *testing.T) {
	accts := qortaltest.Accounts(t)
	alice := accts["alice"]
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		nc := newFakeNextcloud(t)
		nc.AddUser(ocsfake.User{ID: "alice.nc", DisplayName: "Alice NC"})
		b := newBroker(t, open(t), nc)
		if r := b.do("POST", "/api/provision/link", map[string]any{"qortalAddress": alice.Address, "nextcloudUserId": "ghost"}); r.Status != 404 || r.errCode() != "nextcloud_user_not_found" {
			t.Fatalf("link to missing user: %d %s", r.Status, r.Raw)
		}
		r := b.do("POST", "/api/provision/link", map[string]any{"qortalAddress": alice.Address, "nextcloudUserId": "alice.nc"})
		if r.Status != 200 || r.Body["linked"] != true || r.Body["nextcloudUserId"] != "alice.nc" {
			t.Fatalf("link: %d %s", r.Status, r.Raw)
		}
		if r := b.do("POST", "/api/provision/link", map[string]any{"qortalAddress": alice.Address, "nextcloudUserId": "alice.nc"}); r.Status != 200 {
			t.Fatalf("repeated link must be idempotent: %d %s", r.Status, r.Raw)
		}
		g := b.do("GET", "/api/provision/mapping/"+alice.Address, nil)
		if g.Status != 200 || g.Body["nextcloudUserId"] != "alice.nc" || g.Body["status"] != "linked" || g.Body["displayName"] != "Alice NC" {
			t.Fatalf("get: %d %s", g.Status, g.Raw)
		}
		d := b.do("DELETE", "/api/provision/mapping/"+alice.Address, nil)
		if d.Status != 200 || d.Body["unlinked"] != true {
			t.Fatalf("delete: %d %s", d.Status, d.Raw)
		}
		if g := b.do("GET", "/api/provision/mapping/"+alice.Address, nil); g.Status != 404 {
			t.Fatalf("after delete: %d", g.Status)
		}
		if _, ok := nc.User("alice.nc"); !ok {
			t.Fatal("unlink must keep the Nextcloud account")
		}
	})
}

func TestListPagination(t *testing.T) {
	accts := qortaltest.Accounts(t)
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		b := newBroker(t, open(t), newFakeNextcloud(t))
		want := map[string]bool{}
		for _, name := range []string{"alice", "bob", "chloe", "dilbert"} {
			a := accts[name].Address
			want[a] = true
			if r := b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": a, "displayName": "user " + name}); r.Status != 201 {
				t.Fatalf("setup: %s", r.Raw)
			}
		}
		seen := map[string]bool{}
		cursor, pages := "", 0
		for {
			r := b.do("GET", "/api/provision/mappings?limit=3&cursor="+cursor, nil)
			if r.Status != 200 {
				t.Fatalf("list: %d %s", r.Status, r.Raw)
			}
			pages++
			for _, m := range r.Body["mappings"].([]any) {
				a := m.(map[string]any)["qortalAddress"].(string)
				if seen[a] {
					t.Fatalf("address %s on two pages", a)
				}
				seen[a] = true
			}
			next, _ := r.Body["nextCursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		if pages != 2 || len(seen) != len(want) {
			t.Fatalf("pages=%d seen=%v", pages, seen)
		}
		r := b.do("GET", "/api/provision/mappings?q=USER+CHL", nil)
		if ms := r.Body["mappings"].([]any); len(ms) != 1 || ms[0].(map[string]any)["qortalAddress"] != accts["chloe"].Address {
			t.Fatalf("search: %s", r.Raw)
		}
	})
}

func TestNextcloudFailures(t *testing.T) {
	accts := qortaltest.Accounts(t)
	alice := accts["alice"]
	cases := []struct {
		name  string
		setup func(nc *ocsfake.Server)
		code  string
	}{
		{"rate limited", func(nc *ocsfake.Server) { nc.SetRateLimited(true) }, "nextcloud_rate_limited"},
		{"server error", func(nc *ocsfake.Server) { nc.FailNext(ocsfake.RouteGetUser, 500, 1) }, "nextcloud_error"},
		{"bad service credentials", func(nc *ocsfake.Server) { nc.AddAccount(ncUser, "rotated-elsewhere", true) }, "nextcloud_unauthorized"},
		{"password policy", func(nc *ocsfake.Server) { nc.RejectPasswords(true) }, "nextcloud_policy_rejected"},
		{"unreachable", func(nc *ocsfake.Server) { nc.Close() }, "nextcloud_unreachable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc := newFakeNextcloud(t)
			b := newBroker(t, storetest.Open(t, storetest.SQLite), nc)
			tc.setup(nc)
			r := b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address})
			if r.Status != http.StatusBadGateway || r.errCode() != tc.code {
				t.Fatalf("got %d %s, want 502 %s", r.Status, r.Raw, tc.code)
			}
			if _, err := b.store.GetMappingByAddress(context.Background(), alice.Address); err == nil {
				t.Fatal("a failed upsert must not leave a mapping")
			}
		})
	}
	// Input Nextcloud refuses is the caller's to fix: 400, not 502.
	nc := newFakeNextcloud(t)
	b := newBroker(t, storetest.Open(t, storetest.SQLite), nc)
	r := b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address, "groups": []string{"no-such-group"}})
	if r.Status != http.StatusBadRequest || r.errCode() != "nextcloud_rejected" {
		t.Fatalf("missing group: %d %s", r.Status, r.Raw)
	}
}

func TestStoreUnavailable(t *testing.T) {
	accts := qortaltest.Accounts(t)
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		st := open(t)
		b := newBroker(t, st, newFakeNextcloud(t))
		st.Close()
		r := b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": accts["alice"].Address})
		if r.Status != http.StatusServiceUnavailable || r.errCode() != "unavailable" {
			t.Fatalf("got %d %s", r.Status, r.Raw)
		}
		if r := b.do("GET", "/readyz", nil); r.Status != http.StatusServiceUnavailable {
			t.Fatalf("readyz with a closed store: %d", r.Status)
		}
	})
}

// Two replicas sharing one store, hit at once for the same address, must
// create one Nextcloud user and one mapping.
func TestConcurrentUpsertsAcrossReplicas(t *testing.T) {
	accts := qortaltest.Accounts(t)
	alice := accts["alice"]
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		nc := newFakeNextcloud(t)
		st := open(t)
		replicas := []*broker{newBroker(t, st, nc), newBroker(t, st, nc)}
		var wg sync.WaitGroup
		results := make([]response, 16)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = replicas[i%2].do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address})
			}()
		}
		wg.Wait()
		created := 0
		for _, r := range results {
			if r.Status != 200 && r.Status != 201 || r.Body["nextcloudUserId"] != alice.Address {
				t.Fatalf("concurrent upsert: %d %s", r.Status, r.Raw)
			}
			if r.Body["created"] == true {
				created++
			}
		}
		if nc.CreateCount() != 1 || created != 1 {
			t.Fatalf("nextcloud creates=%d, responses with created=true: %d; want 1 and 1", nc.CreateCount(), created)
		}
	})
}

// A crash between Nextcloud creating the user and the broker writing the
// mapping is healed by the next call: the user is linked, not duplicated.
func TestCrashBetweenCreateAndMappingHeals(t *testing.T) {
	accts := qortaltest.Accounts(t)
	alice := accts["alice"]
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		nc := newFakeNextcloud(t)
		b := newBroker(t, open(t), nc)
		nc.CrashAfterCreate(1)
		r := b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address, "displayName": "Alice"})
		if r.Status != http.StatusBadGateway {
			t.Fatalf("the interrupted call should report the upstream failure: %d %s", r.Status, r.Raw)
		}
		if _, ok := nc.User(alice.Address); !ok {
			t.Fatal("setup: the fake should have kept the user it created")
		}
		if _, err := b.store.GetMappingByAddress(context.Background(), alice.Address); err == nil {
			t.Fatal("setup: no mapping should exist after the crash")
		}
		r = b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address, "displayName": "Alice"})
		if r.Status != http.StatusOK || r.Body["linked"] != true || r.Body["nextcloudUserId"] != alice.Address {
			t.Fatalf("healing call: %d %s", r.Status, r.Raw)
		}
		if n := len(nc.Users()); n != 2 { // service account + alice
			t.Fatalf("users after healing: %v", nc.Users())
		}
	})
}

func TestHealthAndMetrics(t *testing.T) {
	accts := qortaltest.Accounts(t)
	b := newBroker(t, storetest.Open(t, storetest.SQLite), newFakeNextcloud(t))
	if r := b.do("GET", "/healthz", nil); r.Status != 200 {
		t.Fatalf("healthz %d", r.Status)
	}
	if r := b.do("GET", "/readyz", nil); r.Status != 200 || r.Body["store"] != "ok" {
		t.Fatalf("readyz %d %s", r.Status, r.Raw)
	}
	b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": accts["alice"].Address})
	b.do("GET", "/no/such/path", nil)
	r := b.do("GET", "/metrics", nil)
	for _, want := range []string{
		`qortal_oidc_http_requests_total{method="POST",route="/api/provision/upsert",status="201"} 1`,
		`qortal_oidc_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`qortal_oidc_nextcloud_calls_total{op="create_user",outcome="ok"} 1`,
		`qortal_oidc_store_operation_duration_seconds_count{op="create_mapping",result="ok"} 1`,
	} {
		if !strings.Contains(r.Raw, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if !strings.Contains(b.logs.String(), `"request_id"`) {
		t.Error("access log lacks request ids")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// flipChar swaps a Base58 character for another valid one.
func flipChar(c byte) string {
	if c == 'z' {
		return "y"
	}
	return "z"
}
