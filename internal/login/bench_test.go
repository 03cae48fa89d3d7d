package login

import (
	"context"
	"log/slog"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/pgtest"
	"github.com/qortal-oidc/qortal-oidc/internal/store/postgres"
)

// BenchmarkFullLogin measures whole logins (authorize, challenge, verify,
// provider callback, token with ID token verification) over loopback HTTP,
// per signing algorithm and store backend. Reported as logins/s.
func BenchmarkFullLogin(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"sqlite", func(b *testing.B) store.Store { return openStore(b) }},
		{"postgres", func(b *testing.B) store.Store {
			s, err := postgres.Open(context.Background(), pgtest.URL(b), slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			return s
		}},
	}
	for _, be := range backends {
		for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
			b.Run(be.name+"/"+alg, func(b *testing.B) {
				br := startBroker(b, be.open(b), alg)
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
