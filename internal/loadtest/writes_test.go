package loadtest

import (
	"context"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// maxWritesPerLogin is the budget of durable write transactions of one whole
// login (authorize, login page, challenge, verify, callback, code exchange):
// each is an fsync, the dominant cost of a login on either database.
const maxWritesPerLogin = 3

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
			t.Logf("%s: %d write transactions for %d logins (%.1f per login)", kind, writes, r.Logins, per)
			if per > maxWritesPerLogin {
				t.Fatalf("%.1f durable write transactions per login, budget %d", per, maxWritesPerLogin)
			}
		})
	}
}
