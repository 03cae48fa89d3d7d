package loadtest

import (
	"context"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// BenchmarkLogin runs whole logins (authorize, login page, challenge,
// signature, verify, callback, code exchange, ID token checked against the
// JWKS) one after another against an in-process broker over loopback HTTP,
// per store and signing algorithm. It reports logins/s and the store's
// durable write transactions per login, so a change that makes the login
// slower or adds a write shows here:
//
//	scripts/with-postgres.sh go test -run '^$' -bench BenchmarkLogin ./internal/loadtest
func BenchmarkLogin(b *testing.B) {
	for _, kind := range storetest.Kinds() {
		for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
			b.Run(string(kind)+"/"+alg, func(b *testing.B) {
				issuer, key, srv := startBroker(b, kind, alg)
				o := Options{Issuer: issuer, ClientID: clientID, Secret: secret, RedirectURI: redirect, Key: key, Concurrency: 1}
				if err := o.defaults(); err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				d, err := newDriver(ctx, o)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := d.login(ctx); err != nil { // warm caches and pools
					b.Fatal(err)
				}
				wc := srv.Store().(interface{ WriteTransactions() uint64 })
				before := wc.WriteTransactions()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := d.login(ctx); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
				b.ReportMetric(float64(wc.WriteTransactions()-before)/float64(b.N), "writes/login")
			})
		}
	}
}

// BenchmarkLoginConcurrent is BenchmarkLogin with four logins in flight at
// once (EdDSA), as the load command runs them: on the embedded store that is
// where write transactions commit together, so it also reports durable
// commits per login (2 when nothing is shared).
func BenchmarkLoginConcurrent(b *testing.B) {
	for _, kind := range storetest.Kinds() {
		b.Run(string(kind), func(b *testing.B) {
			issuer, key, srv := startBroker(b, kind, "EdDSA")
			o := Options{Issuer: issuer, ClientID: clientID, Secret: secret, RedirectURI: redirect, Key: key,
				Concurrency: 4, Logins: 8, Warmup: 1}
			if _, err := Run(context.Background(), o); err != nil { // warm caches and pools
				b.Fatal(err)
			}
			cc := srv.Store().(interface{ Commits() uint64 })
			before := cc.Commits()
			o.Logins, o.Warmup = b.N, 0
			b.ResetTimer()
			r, err := Run(context.Background(), o)
			b.StopTimer()
			if err != nil || r.ErrorCount() != 0 || r.Logins != b.N {
				b.Fatalf("run: %v, %d logins, errors %v", err, r.Logins, r.Errors)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
			b.ReportMetric(float64(cc.Commits()-before)/float64(b.N), "commits/login")
		})
	}
}
