package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// BenchmarkStore measures the hot store operations on every backend with
// the same code, so the figures compare like with like.
func BenchmarkStore(b *testing.B) {
	for _, kind := range Kinds() {
		b.Run(string(kind)+"/CreateMapping", func(b *testing.B) {
			s := Open(b, kind)
			audit := store.AuditEntry{Actor: "admin:bench", Detail: `{"bench":true}`}
			i := 0
			for b.Loop() {
				m := store.Mapping{QortalAddress: fmt.Sprintf("Qbench%08d", i), NextcloudUserID: fmt.Sprintf("bench%08d", i),
					DisplayName: "Bench", Email: "bench@example.org", Status: store.StatusLinked}
				if _, err := s.CreateMapping(b.Context(), m, audit); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(string(kind)+"/GetMappingByAddress", func(b *testing.B) {
			s := Open(b, kind)
			for i := range 1000 {
				if _, err := s.CreateMapping(b.Context(), store.Mapping{QortalAddress: fmt.Sprintf("Qbench%08d", i),
					NextcloudUserID: fmt.Sprintf("bench%08d", i), Status: store.StatusLinked},
					store.AuditEntry{Actor: "admin:bench"}); err != nil {
					b.Fatal(err)
				}
			}
			i := 0
			for b.Loop() {
				if _, err := s.GetMappingByAddress(b.Context(), fmt.Sprintf("Qbench%08d", i%1000)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(string(kind)+"/ConsumeChallenge", func(b *testing.B) {
			s := Open(b, kind)
			now := time.Now()
			// A challenge can be consumed once: create one per iteration up front.
			for i := range b.N {
				if err := s.CreateChallenge(b.Context(), store.Challenge{ID: fmt.Sprintf("bench-%d", i), Purpose: "login",
					Message: "m", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := range b.N {
				if _, err := s.ConsumeChallenge(b.Context(), fmt.Sprintf("bench-%d", i), now.Add(time.Second)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
