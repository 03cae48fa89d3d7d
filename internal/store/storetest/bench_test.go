package storetest

import (
	"fmt"
	"syscall"
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
		b.Run(string(kind)+"/LoginWrites", func(b *testing.B) { benchLoginWrites(b, Open(b, kind)) })
	}
}

// benchLoginWrites is the store's whole share of one login, in the order
// and with the parts the provider sends: the proof's completion (sealed
// request inserted completed, challenge used, code, OIDC and broker
// session, audit) and the code exchange (code redeemed, access token,
// mapping read). One after the other, so every commit waits for its own
// fsync: with the HTTP load command's noise removed, a change to either
// transaction shows here. cpu-µs/op is this process's CPU (for Postgres the
// server's share is not in it).
func benchLoginWrites(b *testing.B, s store.Store) {
	ctx := b.Context()
	if _, err := s.CreateMapping(ctx, store.Mapping{QortalAddress: "QbenchAddr", NextcloudUserID: "bench", Status: store.StatusLinked},
		store.AuditEntry{Actor: "admin:bench"}); err != nil {
		b.Fatal(err)
	}
	i := 0
	cpu0 := processCPU()
	for b.Loop() {
		now := time.Now()
		id := fmt.Sprintf("ar_bench%012d", i)
		ar := store.AuthRequest{ID: id, ClientID: "nc", RedirectURI: "https://cloud.example/apps/user_oidc/code",
			Scopes: []string{"openid", "profile", "email"}, State: "state-0123456789", Nonce: "nonce-0123456789", ResponseType: "code",
			CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", CodeChallengeMethod: "S256",
			CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
		code := fmt.Sprintf("%064x", 2*i)
		c := store.AuthCompletion{Subject: "bench", QortalAddress: "QbenchAddr", AuthTime: now, AMR: []string{"qortal"},
			SessionID: "sid_" + id, SessionExpiresAt: now.Add(24 * time.Hour), Request: &ar,
			Challenge: &store.Challenge{ID: "lc_" + id, Purpose: "login", Message: "Sign in " + id,
				AuthRequestID: id, ClientID: "nc", CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)},
			Code:  &store.AuthCode{Hash: code, CreatedAt: now, ExpiresAt: now.Add(2 * time.Minute)},
			Audit: []store.AuditEntry{{Actor: "wallet:QbenchAddr", Action: "login.success", Subject: "QbenchAddr", Detail: `{"client_id":"nc"}`}},
			NewBrokerSession: &store.BrokerSession{ID: "bs_" + id, TokenHash: fmt.Sprintf("%064x", 2*i+1), QortalAddress: "QbenchAddr",
				AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(24 * time.Hour), UserAgent: "bench"}}
		if _, err := s.CompleteAuthRequest(ctx, id, c, now); err != nil {
			b.Fatal(err)
		}
		grant := "g_" + id
		x := store.CodeExchange{CodeHash: code, GrantID: grant, KeepUntil: now.Add(time.Hour),
			Access: &store.AccessToken{ID: "at_" + id, ClientID: "nc", Subject: "bench", QortalAddress: "QbenchAddr",
				Scopes: ar.Scopes, Audience: []string{"nc"}, SessionID: c.SessionID, RefreshFamilyID: grant, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}}
		got, err := s.ExchangeAuthCode(ctx, x, now)
		if err != nil || got.Mapping == nil {
			b.Fatalf("exchange: %+v, %v", got, err)
		}
		i++
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N)/1e3, "cpu-µs/op")
}

// processCPU is this process's user and system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
