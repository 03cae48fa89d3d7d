package loadtest

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// maxWritesPerLogin is the budget of durable write transactions of one whole
// login (authorize, login page, challenge, verify, code exchange): each is
// an fsync, the dominant cost of a login on either database. The issue's
// ceiling is 3; a login takes 2 (verify, code exchange: /authorize seals
// its request into the id and writes nothing), and the budget holds it
// there.
const maxWritesPerLogin = 2

// TestWriteTransactionsPerLogin counts the store's committed write
// transactions over complete logins driven by the load command, so a change
// that adds a durable write to the login fails here.
func TestWriteTransactionsPerLogin(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			issuer, key, srv := startBroker(t, kind, "EdDSA")
			wc := srv.Store().(interface{ WriteTransactions() uint64 })
			o := Options{Issuer: issuer, ClientID: clientID, Secret: secret, RedirectURI: redirect, Key: key, Concurrency: 1, Logins: 10, Warmup: 1}
			if _, err := Run(context.Background(), o); err != nil { // warms caches, creates nothing lasting
				t.Fatal(err)
			}
			before := wc.WriteTransactions()
			o.Warmup = 0
			r, err := Run(context.Background(), o)
			if err != nil || r.Logins != 10 || r.ErrorCount() != 0 {
				t.Fatalf("run: %v %+v", err, r)
			}
			writes := wc.WriteTransactions() - before
			per := float64(writes) / float64(r.Logins)
			t.Logf("%s: %d durable write transactions for %d logins (%.1f per login)", kind, writes, r.Logins, per)
			if rc, ok := srv.Store().(interface{ RelaxedWrites() uint64 }); ok && rc.RelaxedWrites() > 0 {
				// The embedded store's pending auth requests (sqlstore.inRelaxedTx).
				t.Logf("%s: and %d relaxed (no fsync) in all", kind, rc.RelaxedWrites())
			}
			if per > maxWritesPerLogin {
				t.Fatalf("%.1f durable write transactions per login, budget %d", per, maxWritesPerLogin)
			}
		})
	}
}

// storeOpsBudget is what one whole login may ask of the store (reads and
// writes, from qortal_oidc_store_operation_duration_seconds): on Postgres
// each is a network round trip, on either store a statement or more. The
// auth request, for one, is neither written at /authorize (it is sealed
// into its id, oidcprovider/sealedrequest.go) nor read by id: the login
// page, the challenge and the proof use the replica's copy
// (oidcprovider/pending.go), the proof's completion inserts it and returns
// it (the code goes to the RP from there, without op's callback), and the
// token endpoint of the replica that completed the login uses that copy
// (oidcprovider completedCodes; another replica reads it by code:
// auth_request_by_code, never here). Nor is the challenge read: the proof
// learns of a replay from its auth request (login.loadChallenge). The
// mapping is read once by the proof; the code exchange reads it again (the
// ID token's claims, as they stand then) inside its own transaction.
var storeOpsBudget = map[string]int{
	"get_mapping_by_address": 1,
	"complete_auth_request":  1,
	"exchange_auth_code":     1,
	// Postgres only: the shared per-IP limits of /authorize and the proof
	// (one UNLOGGED upsert each, ratelimit.NewShared); the challenge comes
	// with the page.
	"hit_rate_limit": 2,
}

// TestStoreOperationsPerLogin counts every store operation over complete
// logins (from the broker's own /metrics), so a change that adds a store
// round trip to the login fails here, naming the operation.
func TestStoreOperationsPerLogin(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			issuer, key, _ := startBroker(t, kind, "EdDSA")
			o := Options{Issuer: issuer, ClientID: clientID, Secret: secret, RedirectURI: redirect, Key: key, Concurrency: 1, Logins: 10, Warmup: 1}
			if _, err := Run(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			before := storeOps(t, issuer)
			o.Warmup = 0
			r, err := Run(context.Background(), o)
			if err != nil || r.Logins != 10 || r.ErrorCount() != 0 {
				t.Fatalf("run: %v %+v", err, r)
			}
			after := storeOps(t, issuer)
			total, budget := 0, 0
			for _, b := range storeOpsBudget {
				budget += b
			}
			for op, n := range after {
				per := float64(n-before[op]) / float64(r.Logins)
				if per == 0 {
					continue
				}
				total += n - before[op]
				t.Logf("%s: %.1f per login", op, per)
				if per > float64(storeOpsBudget[op]) {
					t.Errorf("%s: %.1f per login, budget %d", op, per, storeOpsBudget[op])
				}
			}
			if per := float64(total) / float64(r.Logins); per > float64(budget) {
				t.Errorf("%.1f store operations per login, budget %d", per, budget)
			}
		})
	}
}

// storeOps reads the store operation counts (all results) from /metrics.
func storeOps(t *testing.T, issuer string) map[string]int {
	t.Helper()
	return metricCounts(t, issuer, regexp.MustCompile(`(?m)^qortal_oidc_store_operation_duration_seconds_count\{op="([a-z_]+)",result="[a-z_]+"\} ([0-9]+)$`))
}

// metricCounts sums the counters re matches in /metrics by re's first
// group (re's second group is the value).
func metricCounts(t *testing.T, issuer string, re *regexp.Regexp) map[string]int {
	t.Helper()
	res, err := http.Get(issuer + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, m := range re.FindAllStringSubmatch(string(body), -1) {
		n, _ := strconv.Atoi(m[2])
		out[m[1]] += n
	}
	if len(out) == 0 {
		t.Fatalf("no %s counts in /metrics", re)
	}
	return out
}

// loginRoutes are the requests of one login, as a browser and a relying
// party make them: /authorize answers the browser with the login page
// itself (no redirect to /login), which carries its challenge (no
// /login/challenge), then the proof and the code exchange.
var loginRoutes = map[string]int{"/authorize": 1, "/login/verify": 1, "/token": 1}

// TestRequestsPerLogin counts the broker's HTTP requests by route over
// complete logins (from its own /metrics): a change that adds a request to
// the login, or sends the browser through the /login redirect again, fails
// here.
func TestRequestsPerLogin(t *testing.T) {
	issuer, key, _ := startBroker(t, storetest.SQLite, "EdDSA")
	o := Options{Issuer: issuer, ClientID: clientID, Secret: secret, RedirectURI: redirect, Key: key, Concurrency: 1, Logins: 10, Warmup: 1}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	before := httpRequests(t, issuer)
	o.Warmup = 0
	r, err := Run(context.Background(), o)
	if err != nil || r.Logins != 10 || r.ErrorCount() != 0 {
		t.Fatalf("run: %v %+v", err, r)
	}
	after := httpRequests(t, issuer)
	for route, n := range after {
		per := float64(n-before[route]) / float64(r.Logins)
		if per == 0 || route == "/.well-known/openid-configuration" || route == "/jwks" || route == "/metrics" {
			continue // the driver's discovery and key set, once per run
		}
		t.Logf("%s: %.1f per login", route, per)
		if per > float64(loginRoutes[route]) {
			t.Errorf("%s: %.1f requests per login, want %d", route, per, loginRoutes[route])
		}
	}
	for route, want := range loginRoutes {
		if got := float64(after[route]-before[route]) / float64(r.Logins); got != float64(want) {
			t.Errorf("%s: %.1f requests per login, want %d", route, got, want)
		}
	}
}

// httpRequests reads the request counts by route (all methods and
// statuses) from /metrics.
func httpRequests(t *testing.T, issuer string) map[string]int {
	t.Helper()
	return metricCounts(t, issuer, regexp.MustCompile(`(?m)^qortal_oidc_http_requests_total\{[^}]*route="([^"]*)"[^}]*\} ([0-9]+)$`))
}
