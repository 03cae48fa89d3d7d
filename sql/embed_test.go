package migrations

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestEmbeddedDialectsHaveTheSameVersions(t *testing.T) {
	pg, err := Postgres()
	if err != nil {
		t.Fatal(err)
	}
	lite, err := SQLite()
	if err != nil {
		t.Fatal(err)
	}
	if len(pg) != len(lite) {
		t.Fatalf("postgres has %d migrations, sqlite %d", len(pg), len(lite))
	}
	for i := range pg {
		if pg[i].Version != lite[i].Version {
			t.Errorf("migration %d: postgres %q, sqlite %q", i, pg[i].Version, lite[i].Version)
		}
	}
	if pg[0].Version != "0001_init" {
		t.Errorf("first migration = %q, want 0001_init", pg[0].Version)
	}
}

func TestLoadOrdersByFileName(t *testing.T) {
	fsys := fstest.MapFS{
		"d/0010_later.sql": {Data: []byte("SELECT 10;")},
		"d/0002_b.sql":     {Data: []byte("SELECT 2;")},
		"d/0001_a.sql":     {Data: []byte("SELECT 1;")},
	}
	got, err := Load(fsys, "d")
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, m := range got {
		versions = append(versions, m.Version)
	}
	if strings.Join(versions, ",") != "0001_a,0002_b,0010_later" {
		t.Fatalf("order = %v", versions)
	}
	if got[2].SQL != "SELECT 10;" {
		t.Fatalf("body of 0010_later = %q", got[2].SQL)
	}
}

func TestLoadRejects(t *testing.T) {
	cases := map[string]fstest.MapFS{
		"misnamed":       {"d/1_init.sql": {Data: []byte("SELECT 1;")}},
		"duplicate":      {"d/0001_a.sql": {Data: []byte("SELECT 1;")}, "d/0001_b.sql": {Data: []byte("SELECT 1;")}},
		"empty file":     {"d/0001_a.sql": {Data: []byte("  \n")}},
		"no migrations":  {"d/sub/0001_a.sql": {Data: []byte("SELECT 1;")}},
		"missing folder": {"e/0001_a.sql": {Data: []byte("SELECT 1;")}},
	}
	for name, fsys := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Load(fsys, "d"); err == nil {
				t.Fatal("Load succeeded, want error")
			}
		})
	}
}
