package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/qortal-oidc/qortal-oidc/internal/store/pgtest"
	migrations "github.com/qortal-oidc/qortal-oidc/sql"
)

// Migration 0006 makes Nextcloud user ids unique without case. A database
// that already links two addresses to case variants of one id (the bug it
// closes) must stop the start with a message saying what to do, and keep
// its data.
func TestMigration0006RefusesCaseCollisions(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	all, err := migrations.Postgres()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if m.Version >= "0006" {
			break
		}
		if _, err := conn.Exec(ctx, m.SQL); err != nil {
			t.Fatalf("%s: %v", m.Version, err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations VALUES ($1, now())`, m.Version); err != nil {
			t.Fatal(err)
		}
	}
	for _, row := range [][2]string{{"QaddrOne", "bobnc"}, {"QaddrTwo", "BOBNC"}} {
		if _, err := conn.Exec(ctx, `INSERT INTO mappings (qortal_address, nextcloud_user_id, status, created_at, updated_at)
			VALUES ($1, $2, 'linked', now(), now())`, row[0], row[1]); err != nil {
			t.Fatal(err)
		}
	}
	_, err = Open(ctx, url, nil)
	if err == nil || !strings.Contains(err.Error(), "differ only in case") || !strings.Contains(err.Error(), "Unlink") {
		t.Fatalf("Open over colliding mappings = %v; want the migration to refuse and say what to do", err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM mappings`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("mappings after the refused migration: %d, %v", n, err)
	}
	// Once one of them is unlinked the migration applies.
	if _, err := conn.Exec(ctx, `DELETE FROM mappings WHERE qortal_address = 'QaddrTwo'`); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, url, nil)
	if err != nil {
		t.Fatalf("Open after fixing: %v", err)
	}
	_ = s.Close()
}
