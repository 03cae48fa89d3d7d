package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/config"

	"github.com/qortal-oidc/qortal-oidc/internal/store/pgtest"
)

// The shared implementation names conflicts by table and column; this
// backend turns those into constraint names by convention. Check the
// convention against the migrated schema, so a migration that names a
// constraint differently fails here rather than turning a conflict
// sentinel into a generic error.
func TestConstraintNamesMatchSchema(t *testing.T) {
	s := open(t, pgtest.URL(t))
	for _, c := range []struct{ table, column string }{
		{"mappings", "qortal_address"}, {"mappings", "nextcloud_user_id"}, {"challenges", "id"},
		{"allowlist", "qortal_address"}, {"console_sessions", "token_hash"}, {"invites", "id"},
		{"invites", "token_hash"}, {"onboarding_campaigns", "id"}, {"oidc_clients", "id"},
		{"oidc_auth_requests", "id"}, {"oidc_codes", "hash"}, {"qapps", "id"}, {"qapps", "resource_key"},
	} {
		name := constraintName(c.table, c.column)
		var n int
		err := s.db.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_constraint k
			JOIN pg_class r ON r.oid = k.conrelid
			JOIN pg_attribute a ON a.attrelid = r.oid AND a.attname = $3
			WHERE r.relname = $1 AND r.relnamespace = current_schema()::regnamespace
			AND k.conname = $2 AND k.contype IN ('p', 'u') AND k.conkey = ARRAY[a.attnum]`,
			c.table, name, c.column).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%s.%s: no single-column unique constraint named %q", c.table, c.column, name)
		}
	}
}

// The pool is sized for a server by default; the setting and the URL
// parameter both change it, the setting winning.
func TestPoolSize(t *testing.T) {
	url := pgtest.URL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	for _, tc := range []struct {
		url  string
		opt  int
		want int
	}{
		{url, 0, config.DefaultDatabaseMaxConns},
		{url, 7, 7},
		{url + sep + "pool_max_conns=5", 0, 5},
		{url + sep + "pool_max_conns=5", 9, 9},
	} {
		s, err := Open(context.Background(), tc.url, nil, WithMaxConns(tc.opt))
		if err != nil {
			t.Fatal(err)
		}
		if got := s.MaxConns(); got != tc.want {
			t.Errorf("opt %d url %s: pool %d, want %d", tc.opt, tc.url[len(url):], got, tc.want)
		}
		_ = s.Close()
	}
}

// The shared rate-limit counters are unlogged: a check on the login path
// must not wait for a WAL flush (see sql/postgres/0008_rate_limits.sql).
func TestRateLimitTableIsUnlogged(t *testing.T) {
	s := open(t, pgtest.URL(t))
	var persistence string
	if err := s.db.QueryRowContext(t.Context(), `SELECT relpersistence FROM pg_class
		WHERE relname = 'rate_limits' AND relnamespace = current_schema()::regnamespace`).Scan(&persistence); err != nil {
		t.Fatal(err)
	}
	if persistence != "u" {
		t.Fatalf("rate_limits relpersistence = %q, want u (unlogged)", persistence)
	}
}
