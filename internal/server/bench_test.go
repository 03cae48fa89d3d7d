package server

import (
	"crypto/ed25519"
	"encoding/binary"
	"net/http"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// benchAddresses derives n distinct valid addresses from deterministic seeds.
func benchAddresses(n int) []string {
	out := make([]string, n)
	seed := make([]byte, ed25519.SeedSize)
	for i := range out {
		binary.BigEndian.PutUint64(seed, uint64(i)+1)
		pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
		out[i] = qortal.AddressFromPublicKey(pub)
	}
	return out
}

// BenchmarkUpsert measures POST /api/provision/upsert end to end over
// loopback HTTP: admin auth, validation, store, and the fake Nextcloud.
// "new" creates a Nextcloud user and a mapping each time; "existing" is the
// idempotent repeat that admin tooling sends most.
func BenchmarkUpsert(b *testing.B) {
	for _, kind := range storetest.Kinds() {
		name := string(kind)
		b.Run(name+"/new", func(b *testing.B) {
			br := newBroker(b, storetest.Open(b, kind), newFakeNextcloud(b))
			addrs := benchAddresses(b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if r := br.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": addrs[i]}); r.Status != http.StatusCreated {
					b.Fatalf("%d %s", r.Status, r.Raw)
				}
			}
		})
		b.Run(name+"/existing", func(b *testing.B) {
			br := newBroker(b, storetest.Open(b, kind), newFakeNextcloud(b))
			addr := benchAddresses(1)[0]
			br.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": addr})
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if r := br.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": addr}); r.Status != http.StatusOK {
					b.Fatalf("%d %s", r.Status, r.Raw)
				}
			}
		})
	}
}
