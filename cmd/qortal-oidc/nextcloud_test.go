package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func TestSetupCommand(t *testing.T) {
	c := store.OIDCClient{ID: "nc", RedirectURIs: []string{"https://cloud.example/apps/user_oidc/code"}}
	var out bytes.Buffer
	writeSetup(&out, "https://id.example", "qortal", c, "", "opaque")
	got := out.String()
	for _, want := range []string{
		"php occ user_oidc:provider 'qortal' --clientid='nc' --clientsecret=\"${CLIENT_SECRET:?set CLIENT_SECRET first}\"",
		"#   php occ user_oidc:provider 'qortal' --check-bearer=1",
		"#   php occ config:system:set user_oidc userinfo_bearer_validation --value=true --type=boolean",
		"--discoveryuri='https://id.example/.well-known/openid-configuration'",
		"--unique-uid=0", "--mapping-uid=sub", "--mapping-display-name=name", "--mapping-email=email",
		"--mapping-groups=groups", "--send-id-token-hint=1", "--scope='openid email profile'",
		"unless --group-provisioning=1", "--group-whitelist-regex",
		"#   https://cloud.example/apps/user_oidc/code", "allow_local_remote_servers",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("setup command lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "allow_insecure_http") {
		t.Error("https issuer got the insecure-http note")
	}
	if !strings.Contains(got, "client nc has none yet") {
		t.Errorf("no note about the missing back-channel logout URI:\n%s", got)
	}
	// A display name becomes user_oidc's identifier: its logout path is
	// escaped, and a client registered for another identifier is flagged.
	out.Reset()
	c.BackchannelLogoutURI = "https://cloud.example/index.php/apps/user_oidc/backchannel-logout/qortal"
	writeSetup(&out, "https://id.example", "Sign in with Qortal", c, "", "opaque")
	if got := out.String(); !strings.Contains(got, "/backchannel-logout/Sign%20in%20with%20Qortal\n") ||
		!strings.Contains(got, "WARNING: client nc has back-channel logout URI") {
		t.Errorf("display name identifier:\n%s", got)
	}
	out.Reset()
	writeSetup(&out, "https://id.example", "qortal", c, "", "opaque")
	if got := out.String(); strings.Contains(got, "WARNING") || strings.Contains(got, "none yet") {
		t.Errorf("matching back-channel logout URI flagged:\n%s", got)
	}
	c.BackchannelLogoutURI = ""
	out.Reset()
	writeSetup(&out, "http://127.0.0.1:8080", "it's", c, "s3'cret", "jwt")
	if got := out.String(); !strings.Contains(got, "allow_insecure_http --value=1 --type=boolean --lazy") ||
		!strings.Contains(got, `'it'\''s'`) || !strings.Contains(got, `--clientsecret='s3'\''cret'`) ||
		!strings.Contains(got, "JWT access tokens") {
		t.Errorf("http issuer / quoting:\n%s", got)
	}
}

// Issue 7 item 8: run the printed command in a real shell (php stubbed). With
// CLIENT_SECRET unset the shell must refuse instead of registering an empty
// secret; with it set, the secret reaches the command.
func TestSetupCommandRefusesUnsetSecret(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal("no POSIX shell on this machine:", err)
	}
	c := store.OIDCClient{ID: "nc"}
	var out bytes.Buffer
	writeSetup(&out, "https://id.example", "qortal", c, "", "opaque")
	var line string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "php occ user_oidc:provider") {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("no provider command in:\n%s", out.String())
	}
	script := "php() { printf '%s\\n' \"$@\"; }\n" + line + "\n"
	run := func(env ...string) (string, error) {
		cmd := exec.Command(sh, "-c", script)
		cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, env...)
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	got, err := run()
	if err == nil || !strings.Contains(got, "set CLIENT_SECRET first") || strings.Contains(got, "--clientsecret=") {
		t.Fatalf("unset CLIENT_SECRET: err=%v output %q; want the shell to refuse", err, got)
	}
	if got, err := run("CLIENT_SECRET="); err == nil {
		t.Fatalf("empty CLIENT_SECRET ran: %q", got)
	}
	got, err = run("CLIENT_SECRET=s3cret-value")
	if err != nil || !strings.Contains(got, "--clientsecret=s3cret-value\n") {
		t.Fatalf("with CLIENT_SECRET: %v %q", err, got)
	}
}
