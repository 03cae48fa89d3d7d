package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func TestSetupCommand(t *testing.T) {
	c := store.OIDCClient{ID: "nc", RedirectURIs: []string{"https://cloud.example/apps/user_oidc/code"}}
	var out bytes.Buffer
	writeSetup(&out, "https://id.example", "qortal", c, "")
	got := out.String()
	for _, want := range []string{
		"php occ user_oidc:provider 'qortal' --clientid='nc' --clientsecret=\"$CLIENT_SECRET\"",
		"--discoveryuri='https://id.example/.well-known/openid-configuration'",
		"--unique-uid=0", "--mapping-uid=sub", "--mapping-display-name=name", "--mapping-email=email",
		"--mapping-groups=groups", "--send-id-token-hint=1", "--scope='openid email profile'",
		"#   https://cloud.example/apps/user_oidc/code", "allow_local_remote_servers",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("setup command lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "allow_insecure_http") {
		t.Error("https issuer got the insecure-http note")
	}
	out.Reset()
	writeSetup(&out, "http://127.0.0.1:8080", "it's", c, "s3'cret")
	if got := out.String(); !strings.Contains(got, "allow_insecure_http --value=1 --type=boolean --lazy") ||
		!strings.Contains(got, `'it'\''s'`) || !strings.Contains(got, `--clientsecret='s3'\''cret'`) {
		t.Errorf("http issuer / quoting:\n%s", got)
	}
}
