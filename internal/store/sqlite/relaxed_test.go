package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func writerSynchronous(t *testing.T, s *Store) int {
	t.Helper()
	var mode int
	if err := s.write.QueryRowContext(context.Background(), `PRAGMA synchronous`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	return mode
}

// A pending auth request is stored without waiting for the disk, and the
// writer is durable again for everything after it, whatever happens to
// the relaxed write.
func TestAuthRequestsAreRelaxedWritesOnly(t *testing.T) {
	s, err := Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const full = 2
	if m := writerSynchronous(t, s); m != full {
		t.Fatalf("writer synchronous = %d, want FULL (2)", m)
	}
	now := time.Now()
	ar := func(id string) store.AuthRequest {
		return store.AuthRequest{ID: id, ClientID: "nc", RedirectURI: "https://rp.example/cb", Scopes: []string{"openid"},
			ResponseType: "code", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	}
	durable, relaxed := s.WriteTransactions(), s.RelaxedWrites()
	if err := s.CreateAuthRequest(context.Background(), ar("ar_1")); err != nil {
		t.Fatal(err)
	}
	if s.RelaxedWrites() != relaxed+1 || s.WriteTransactions() != durable {
		t.Errorf("relaxed/durable writes %d/%d -> %d/%d, want one more relaxed", relaxed, durable, s.RelaxedWrites(), s.WriteTransactions())
	}
	if m := writerSynchronous(t, s); m != full {
		t.Errorf("writer synchronous after a relaxed write = %d, want FULL", m)
	}
	if got, err := s.GetAuthRequest(context.Background(), "ar_1"); err != nil || got.ClientID != "nc" {
		t.Errorf("relaxed write not visible: %+v, %v", got, err)
	}
	// A failing relaxed write (duplicate id) and a cancelled one leave the
	// writer durable too.
	if err := s.CreateAuthRequest(context.Background(), ar("ar_1")); err == nil {
		t.Error("duplicate auth request stored")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.CreateAuthRequest(ctx, ar("ar_2")); err == nil {
		t.Error("auth request stored with a cancelled context")
	}
	if m := writerSynchronous(t, s); m != full {
		t.Errorf("writer synchronous after failed relaxed writes = %d, want FULL", m)
	}
	if err := s.AppendAudit(context.Background(), store.AuditEntry{At: now, Actor: "test", Action: "x", Subject: "y"}); err != nil {
		t.Fatal(err)
	}
	if s.WriteTransactions() != durable+1 {
		t.Errorf("the next write is not durable: %d durable writes, want %d", s.WriteTransactions(), durable+1)
	}
}
