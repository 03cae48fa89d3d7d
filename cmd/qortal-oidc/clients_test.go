package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/oidcprovider"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

func TestClientsAddListRemove(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	ctx := t.Context()
	var out, errOut bytes.Buffer
	err := clientsAction(ctx, st, []string{"add", "--id", "nc", "--name", "Nextcloud",
		"--redirect-uri", "https://cloud.example/apps/user_oidc/code", "--post-logout-redirect-uri", "https://cloud.example/"}, &out, &errOut)
	if err != nil {
		t.Fatalf("add: %v (%s)", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	secret := lines[len(lines)-1]
	c, err := st.GetClient(ctx, "nc")
	if err != nil {
		t.Fatal(err)
	}
	if c.SecretHash != oidcprovider.HashSecret(secret) || strings.Contains(c.SecretHash, secret) || len(secret) < 43 {
		t.Errorf("stored hash does not match the printed secret %q", secret)
	}
	out.Reset()
	if err := clientsAction(ctx, st, []string{"list"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "nc\tNextcloud\tconfidential\tcli") || strings.Contains(out.String(), secret) {
		t.Errorf("list = %q", out.String())
	}
	if err := clientsAction(ctx, st, []string{"add", "--id", "nc", "--redirect-uri", "https://x.example/cb"}, &out, &errOut); !errors.Is(err, store.ErrClientExists) {
		t.Errorf("duplicate add = %v", err)
	}
	if err := clientsAction(ctx, st, []string{"add", "--id", "bad id", "--redirect-uri", "https://x.example/cb"}, &out, &errOut); err == nil {
		t.Error("add with an invalid id succeeded")
	}
	if err := clientsAction(ctx, st, []string{"add", "--id", "pub", "--public", "--redirect-uri", "http://evil.example/cb"}, &out, &errOut); err == nil {
		t.Error("public client with a plain-http non-loopback redirect accepted")
	}
	if err := clientsAction(ctx, st, []string{"remove", "--id", "nc"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetClient(ctx, "nc"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("client still there: %v", err)
	}
	if err := clientsAction(ctx, st, []string{"remove", "--id", "nc"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), `no client "nc" is registered`) {
		t.Errorf("removing an unknown client: %v", err)
	}
	cfgClient := store.OIDCClient{ID: "fromcfg", SecretHash: oidcprovider.HashSecret("x"), RedirectURIs: []string{"https://c.example/cb"}, FromConfig: true}
	if err := st.CreateClient(ctx, cfgClient); err != nil {
		t.Fatal(err)
	}
	if err := clientsAction(ctx, st, []string{"remove", "--id", "fromcfg"}, &out, &errOut); err == nil {
		t.Error("removing a configured client succeeded")
	}
}
