package pgtest

import (
	"context"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestURLGivesAnIsolatedSchemaThatIsDroppedAfterwards(t *testing.T) {
	var schemas []string
	t.Run("inner", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			dsn := URL(t)
			u, err := url.Parse(dsn)
			if err != nil {
				t.Fatal(err)
			}
			schemas = append(schemas, u.Query().Get("search_path"))
			conn, err := pgx.Connect(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			var current string
			if err := conn.QueryRow(context.Background(), `SELECT current_schema()`).Scan(&current); err != nil {
				t.Fatal(err)
			}
			conn.Close(context.Background())
			if current != schemas[i] {
				t.Fatalf("current_schema() = %q, want %q", current, schemas[i])
			}
		}
		if schemas[0] == schemas[1] {
			t.Fatalf("two calls gave the same schema %q", schemas[0])
		}
	})
	// inner's cleanups have run: both schemas must be gone.
	conn, err := pgx.Connect(context.Background(), URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_namespace WHERE nspname = ANY($1)`, schemas).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d of the test schemas %v still exist", n, schemas)
	}
}
