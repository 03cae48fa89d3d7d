package login

import (
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// BenchmarkFullLogin measures whole logins (authorize, challenge, verify,
// provider callback, token with ID token verification) over loopback HTTP,
// per signing algorithm and store backend. Reported as logins/s.
func BenchmarkFullLogin(b *testing.B) {
	for _, kind := range storetest.Kinds() {
		for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
			b.Run(string(kind)+"/"+alg, func(b *testing.B) {
				br := startBroker(b, storetest.Open(b, kind), alg)
				br.link(b, "alice", "alice-nc", store.StatusLinked)
				n := 0
				for b.Loop() {
					n++
					br.fullLogin(b, n)
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "logins/s")
			})
		}
	}
}
