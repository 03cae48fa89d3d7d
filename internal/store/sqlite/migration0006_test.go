package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	migrations "github.com/qortal-oidc/qortal-oidc/sql"
)

// Migration 0006 (see the Postgres twin): a file that already links two
// addresses to case variants of one Nextcloud id refuses to migrate and
// keeps its data.
func TestMigration0006RefusesCaseCollisions(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	all, err := migrations.SQLite()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE schema_migrations (version TEXT NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if m.Version >= "0006" {
			break
		}
		if _, err := db.ExecContext(ctx, m.SQL); err != nil {
			t.Fatalf("%s: %v", m.Version, err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations VALUES ($1, '2026-01-01T00:00:00.000000Z')`, m.Version); err != nil {
			t.Fatal(err)
		}
	}
	for _, row := range [][2]string{{"QaddrOne", "bobnc"}, {"QaddrTwo", "BOBNC"}} {
		if _, err := db.ExecContext(ctx, `INSERT INTO mappings (qortal_address, nextcloud_user_id, status, created_at, updated_at)
			VALUES ($1, $2, 'linked', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`, row[0], row[1]); err != nil {
			t.Fatal(err)
		}
	}
	_, err = Open(ctx, dir, nil)
	if err == nil || !strings.Contains(err.Error(), "0006") || !strings.Contains(err.Error(), "mappings_nextcloud_user_id_lower_key") {
		t.Fatalf("Open over colliding mappings = %v; want migration 0006 to refuse", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM mappings`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("mappings after the refused migration: %d, %v", n, err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM mappings WHERE qortal_address = 'QaddrTwo'`); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatalf("Open after fixing: %v", err)
	}
	_ = s.Close()
}
