package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/server"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func TestExternalSitesCommand(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	var out, errOut bytes.Buffer
	if err := runNextcloud(context.Background(), cfg, []string{"external-sites"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "qapps.origin") {
		t.Fatalf("without the gateway: %v", err)
	}
	cfg.QApps.Origin = "https://qapps.example.org"
	st, err := server.OpenStore(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []store.QApp{
		{ID: "mail", Service: "APP", Name: "Q-Mail", Title: "Q-Mail", Groups: []string{"staff"}, PinnedSignature: "Sig1", PinnedAt: time.Now()},
		{ID: "off", Service: "APP", Name: "Off", Title: "Switched off", Disabled: true, PinnedSignature: "Sig2", PinnedAt: time.Now()},
	} {
		if _, err := st.CreateQApp(context.Background(), a, store.AuditEntry{Actor: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	if err := runNextcloud(context.Background(), cfg, []string{"external-sites"}, &out, &errOut); err != nil {
		t.Fatalf("external-sites: %v\n%s", err, errOut.String())
	}
	got := out.String()
	for _, want := range []string{"php occ app:enable external", "php occ config:app:set external sites", `"url":"https://qapps.example.org/app/mail/"`,
		`"groups":["staff"]`, "max_site", "Q-Mail -> https://qapps.example.org/app/mail/ (groups staff)"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Switched off") {
		t.Errorf("disabled app listed:\n%s", got)
	}
}
