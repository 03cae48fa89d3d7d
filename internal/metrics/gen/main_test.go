package main

import (
	"bytes"
	"os"
	"testing"
)

// The committed wrapper must be what the generator writes today: a store
// method added without `go generate ./internal/metrics` fails here (and the
// wrapper fails to compile, as it does not embed store.Store).
func TestGeneratedWrapperIsCurrent(t *testing.T) {
	want, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../store_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("internal/metrics/store_gen.go is stale: run go generate ./internal/metrics")
	}
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{
		"CreateMapping": "create_mapping", "PurgeExpiredOIDC": "purge_expired_oidc",
		"GetOIDCClient": "get_oidc_client", "Ping": "ping",
	} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}
