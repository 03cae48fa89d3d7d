package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/conformance"
	migrations "github.com/qortal-oidc/qortal-oidc/sql"
)

func open(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) store.Store { return open(t, t.TempDir()) })
}

func TestOpenCreatesAPrivateDataDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	open(t, dir)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory mode = %v, want 0700", fi.Mode().Perm())
	}
	db, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if db.Mode().Perm()&0o077 != 0 {
		t.Errorf("database file mode = %v, want no group/other access", db.Mode().Perm())
	}
}

func TestPathWithURISpecialCharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd ?name#%20x")
	s := open(t, dir)
	if _, err := s.CreateMapping(t.Context(), store.Mapping{QortalAddress: "Q1", NextcloudUserID: "u1",
		Status: store.StatusLinked}, store.AuditEntry{Actor: "system"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Errorf("database not created at the literal path: %v", err)
	}
}

func versions(t *testing.T, dir string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestMigrationsApplyOnceAndReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	all, err := migrations.SQLite()
	if err != nil {
		t.Fatal(err)
	}
	// Several processes' worth of stores opening one fresh file at once.
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Add(1)
		go func() { defer wg.Done(); stores[i], errs[i] = Open(t.Context(), dir, nil) }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open %d: %v", i, err)
		}
	}
	created, err := stores[0].CreateMapping(t.Context(), store.Mapping{QortalAddress: "Qkeep", NextcloudUserID: "keep",
		Status: store.StatusLinked}, store.AuditEntry{Actor: "system"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stores {
		_ = s.Close()
	}
	got := versions(t, dir)
	if len(got) != len(all) {
		t.Fatalf("schema_migrations = %v, want one row per migration (%d)", got, len(all))
	}
	s := open(t, dir)
	if m, err := s.GetMappingByAddress(t.Context(), "Qkeep"); err != nil || m != created {
		t.Errorf("after re-open: %+v, %v; want %+v", m, err, created)
	}
	if n := len(versions(t, dir)); n != len(all) {
		t.Errorf("re-open changed schema_migrations to %d rows", n)
	}
}

func TestTwoStoresOnOneFileConsumeOnce(t *testing.T) {
	dir := t.TempDir()
	a, b := open(t, dir), open(t, dir)
	now := time.Now()
	if err := a.CreateChallenge(t.Context(), store.Challenge{ID: "c", Purpose: "login", Message: "m",
		CreatedAt: now, ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := []*Store{a, b}[i%2].ConsumeChallenge(t.Context(), "c", now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, store.ErrChallengeUsed):
				t.Errorf("consumer %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d consumers won, want 1", wins)
	}
}

func TestUnopenableDirectoryIsAnError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), file, nil); err == nil {
		t.Fatal("Open on a regular file succeeded")
	}
	if _, err := Open(t.Context(), "", nil); err == nil {
		t.Fatal("Open with no directory succeeded")
	}
}

func TestBusyWriterPastDeadlineIsUnavailable(t *testing.T) {
	s := open(t, t.TempDir())
	// Hold the only writer connection.
	conn, err := s.write.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = s.CreateMapping(ctx, store.Mapping{QortalAddress: "Q1", NextcloudUserID: "u1", Status: store.StatusLinked},
		store.AuditEntry{Actor: "system"})
	if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("CreateMapping while the writer is busy = %v, want ErrUnavailable wrapping the deadline", err)
	}
}
