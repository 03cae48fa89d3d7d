package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/oidcprovider"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

func TestKeysRotateAndList(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	cfg := config.Default()
	cfg.OIDC.SigningAlg = "ES256"
	cfg.OIDC.KeyEncryptionKey = []byte("0123456789abcdef0123456789abcdef")
	km, err := oidcprovider.NewKeyManager(st, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := km.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := keysAction(t.Context(), km, "rotate", &out, &errOut); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := keysAction(t.Context(), km, "list", &out, &errOut); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if strings.Count(got, "\n") != 2 || !strings.Contains(got, "\tcurrent\t") || !strings.Contains(got, "\tnext\t") {
		t.Errorf("keys list = %q, want one current and one next key", got)
	}
	if err := keysAction(t.Context(), km, "explode", &out, &errOut); err == nil {
		t.Error("unknown action accepted")
	}
}
