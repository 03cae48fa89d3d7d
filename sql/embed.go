// Package migrations embeds the schema migrations of both store backends.
//
// Each dialect has its own directory of files named NNNN_description.sql.
// Backends apply them in filename order, each exactly once, and record the
// version (the file name without ".sql") in a schema_migrations table; a new
// migration is therefore just a new, higher-numbered file in each directory.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
)

//go:embed postgres/*.sql
var postgresFiles embed.FS

//go:embed sqlite/*.sql
var sqliteFiles embed.FS

// Migration is one schema step.
type Migration struct {
	Version string // file name without ".sql", e.g. "0001_init"
	SQL     string
}

// Postgres returns the Postgres migrations in the order to apply them.
func Postgres() ([]Migration, error) { return Load(postgresFiles, "postgres") }

// SQLite returns the SQLite migrations in the order to apply them.
func SQLite() ([]Migration, error) { return Load(sqliteFiles, "sqlite") }

// A four-digit prefix keeps lexical order equal to numeric order.
var fileName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

// Load reads the migrations in dir of fsys, ordered by file name. It rejects
// misnamed files and two files sharing a number, because either would make
// the apply order ambiguous.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir) // sorted by file name
	if err != nil {
		return nil, fmt.Errorf("read migrations %s: %w", dir, err)
	}
	var out []Migration
	seen := map[string]string{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %s/%s: name must look like 0001_description.sql", dir, e.Name())
		}
		if prev, dup := seen[m[1]]; dup {
			return nil, fmt.Errorf("migrations %s and %s in %s share number %s", prev, e.Name(), dir, m[1])
		}
		seen[m[1]] = e.Name()
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s/%s: %w", dir, e.Name(), err)
		}
		if strings.TrimSpace(string(body)) == "" {
			return nil, fmt.Errorf("migration %s/%s is empty", dir, e.Name())
		}
		out = append(out, Migration{Version: strings.TrimSuffix(e.Name(), ".sql"), SQL: string(body)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no migrations in %s", dir)
	}
	return out, nil
}
