package oidcprovider

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

func TestSecrets(t *testing.T) {
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := url.QueryUnescape(s); u != s || url.QueryEscape(s) != s || len(s) != 43 {
		t.Errorf("secret %q is not stable under URL (un)escaping", s)
	}
	if !secretMatches(HashSecret(s), s) || secretMatches(HashSecret(s), s+"x") || secretMatches(HashSecret(""), "") || secretMatches("zz", s) {
		t.Error("secretMatches disagrees with HashSecret")
	}
}

func TestClientFromConfig(t *testing.T) {
	now := time.Now()
	ok := config.Client{ID: "nc", Secret: "x", RedirectURIs: []string{"https://c.example/cb"}}
	c, err := ClientFromConfig(ok, now)
	if err != nil || c.SecretHash != HashSecret("x") || !c.FromConfig {
		t.Fatalf("ClientFromConfig = %+v, %v", c, err)
	}
	ok.Secret, ok.SecretSHA256 = "", strings.ToUpper(HashSecret("y"))
	if c, err := ClientFromConfig(ok, now); err != nil || c.SecretHash != HashSecret("y") {
		t.Errorf("secret_sha256 client = %+v, %v", c, err)
	}
	for name, bad := range map[string]config.Client{
		"no secret":         {ID: "a", RedirectURIs: []string{"https://c.example/cb"}},
		"public w/ secret":  {ID: "a", Public: true, Secret: "x", RedirectURIs: []string{"https://c.example/cb"}},
		"relative redirect": {ID: "a", Secret: "x", RedirectURIs: []string{"/cb"}},
		"fragment":          {ID: "a", Secret: "x", RedirectURIs: []string{"https://c.example/cb#f"}},
		"public over http":  {ID: "a", Public: true, RedirectURIs: []string{"http://c.example/cb"}},
		"bad id":            {ID: "a b", Secret: "x", RedirectURIs: []string{"https://c.example/cb"}},
		"bad backchannel":   {ID: "a", Secret: "x", RedirectURIs: []string{"https://c.example/cb"}, BackchannelLogoutURI: "ftp://x"},
	} {
		if _, err := ClientFromConfig(bad, now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	pubLoop := config.Client{ID: "a", Public: true, RedirectURIs: []string{"http://127.0.0.1:9999/cb"}}
	if _, err := ClientFromConfig(pubLoop, now); err != nil {
		t.Errorf("public loopback redirect rejected: %v", err)
	}
}

func TestConfigClientSync(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	ctx := t.Context()
	cfg := testConfig("http://127.0.0.1:1")
	if err := syncConfigClients(ctx, st, cfg.OIDC.Clients, time.Now()); err != nil {
		t.Fatal(err)
	}
	cfg.OIDC.Clients = cfg.OIDC.Clients[:1]
	cfg.OIDC.Clients[0].Name = "Renamed"
	if err := syncConfigClients(ctx, st, cfg.OIDC.Clients, time.Now()); err != nil {
		t.Fatal(err)
	}
	all, _ := st.ListClients(ctx)
	if len(all) != 1 || all[0].ID != "nc" || all[0].Name != "Renamed" {
		t.Errorf("after sync = %+v: want only the configured nc, renamed", all)
	}
	dup := append(cfg.OIDC.Clients, cfg.OIDC.Clients[0])
	if err := syncConfigClients(ctx, st, dup, time.Now()); err == nil {
		t.Error("duplicate configured client accepted")
	}
}
