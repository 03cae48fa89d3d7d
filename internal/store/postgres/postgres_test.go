package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/conformance"
	"github.com/qortal-oidc/qortal-oidc/internal/store/pgtest"
	migrations "github.com/qortal-oidc/qortal-oidc/sql"
)

func open(t testing.TB, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) store.Store { return open(t, pgtest.URL(t)) })
}

func TestTwoReplicasConsumeOneChallengeOnce(t *testing.T) {
	url := pgtest.URL(t)
	replicas := []*Store{open(t, url), open(t, url)}
	now := time.Now()
	for round := range 5 {
		id := fmt.Sprintf("shared-%d", round)
		if err := replicas[0].CreateChallenge(t.Context(), store.Challenge{ID: id, Purpose: "login", Message: "m",
			CreatedAt: now, ExpiresAt: now.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			wins  int
			start = make(chan struct{})
		)
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := replicas[i%2].ConsumeChallenge(t.Context(), id, now.Add(time.Second))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, store.ErrChallengeUsed):
					t.Errorf("replica %d: %v, want ErrChallengeUsed", i%2, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if wins != 1 {
			t.Errorf("round %d: %d consumers won, want 1", round, wins)
		}
	}
}

func appliedVersions(t *testing.T, url string) []string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return versions
}

func TestMigrationsApplyOnceAndReopenKeepsData(t *testing.T) {
	url := pgtest.URL(t)
	all, err := migrations.Postgres()
	if err != nil {
		t.Fatal(err)
	}
	// Replicas starting at the same time must not trip over each other.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = Migrate(t.Context(), url) }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate %d: %v", i, err)
		}
	}
	got := appliedVersions(t, url)
	if len(got) != len(all) {
		t.Fatalf("schema_migrations has %v, want one row per migration (%d)", got, len(all))
	}
	for i, m := range all {
		if got[i] != m.Version {
			t.Errorf("applied[%d] = %s, want %s", i, got[i], m.Version)
		}
	}

	s, err := Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	created, err := s.CreateMapping(t.Context(), store.Mapping{QortalAddress: "Qkeep", NextcloudUserID: "keep",
		Status: store.StatusLinked}, store.AuditEntry{Actor: "system"})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if err := Migrate(t.Context(), url); err != nil {
		t.Fatalf("Migrate on a migrated schema: %v", err)
	}
	s = open(t, url)
	if got, err := s.GetMappingByAddress(t.Context(), "Qkeep"); err != nil || got != created {
		t.Errorf("after re-open: %+v, %v; want %+v", got, err, created)
	}
	if n := len(appliedVersions(t, url)); n != len(all) {
		t.Errorf("re-open changed schema_migrations to %d rows", n)
	}
}

func TestUnreachableServerIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there now
	url := "postgres://postgres@" + addr + "/postgres?sslmode=disable&connect_timeout=5"
	if _, err := Open(t.Context(), url, nil); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open = %v, want ErrUnavailable", err)
	}
	if err := Migrate(t.Context(), url); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Migrate = %v, want ErrUnavailable", err)
	}
}

func TestExhaustedPoolIsUnavailable(t *testing.T) {
	s := open(t, pgtest.URL(t)+"&pool_max_conns=1")
	held, err := s.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = held.Close() }()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = s.GetMappingByAddress(ctx, "Qany")
	if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("GetMappingByAddress with no free connection = %v, want ErrUnavailable wrapping the deadline", err)
	}
}

func TestBadURLIsNotUnavailable(t *testing.T) {
	_, err := Open(t.Context(), "postgres://u:secret@127.0.0.1:notaport/db", nil)
	if err == nil || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open(bad url) = %v, want a configuration error", err)
	}
	if got := err.Error(); strings.Contains(got, "secret") {
		t.Errorf("error leaks the password: %s", got)
	}
}
