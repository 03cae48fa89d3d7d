package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Statements are prepared once and reused, inside transactions too (a
// statement first met in a transaction is prepared after it).
func TestStatementsArePreparedOnce(t *testing.T) {
	s, err := Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	now := time.Now()
	work := func(i int) {
		c := store.Challenge{ID: "c" + string(rune('a'+i)), Purpose: "login", Message: "m", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
		if err := s.CreateChallenge(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsumeChallenge(ctx, c.ID, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetMappingByAddress(ctx, "Qnobody"); err == nil {
			t.Fatal("found a mapping")
		}
	}
	work(0)
	work(1) // the statements first met inside transactions are ready now
	n := s.PreparedStatements()
	if n < 3 {
		t.Fatalf("%d statements prepared, want at least the 3 used", n)
	}
	for i := 2; i < 10; i++ {
		work(i)
	}
	if got := s.PreparedStatements(); got != n {
		t.Fatalf("prepared statements grew from %d to %d on repeated work", n, got)
	}
}
