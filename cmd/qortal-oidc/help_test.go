package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// --help on every command and action prints usage on stdout, nothing on
// stderr, loads nothing (no config file, no store) and means exit 0.
func TestHelpOnEveryCommand(t *testing.T) {
	t.Chdir(t.TempDir()) // a stray ./data would show that something was opened
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"serve", "--help"}, []string{"qortal-oidc serve", "-config"}},
		{[]string{"migrate", "-h"}, []string{"qortal-oidc migrate", "-config"}},
		{[]string{"sign", "--help"}, []string{"-key-file"}},
		{[]string{"keygen", "--help"}, []string{"-out"}},
		{[]string{"address", "--help"}, []string{"qortal-oidc address"}},
		{[]string{"loadtest", "--help"}, []string{"-issuer"}},
		{[]string{"healthcheck", "--help"}, []string{"-url", "-config", "/readyz"}},
		{[]string{"clients", "--help"}, []string{"clients add", "clients list", "clients remove", "--config"}},
		{[]string{"clients", "add", "--help"}, []string{"-redirect-uri", "-public", "-config"}},
		{[]string{"clients", "list", "--help"}, []string{"clients list", "-config"}},
		{[]string{"clients", "remove", "--help"}, []string{"-id", "-config"}},
		{[]string{"keys", "--help"}, []string{"keys rotate", "-config"}},
		{[]string{"keys", "rotate", "--help"}, []string{"keys rotate"}},
		{[]string{"nextcloud", "--help"}, []string{"setup-command", "external-sites"}},
		{[]string{"nextcloud", "setup-command", "--help"}, []string{"-client-id", "-config"}},
		{[]string{"nextcloud", "external-sites", "--help"}, []string{"external-sites", "-config"}},
		{[]string{"version", "--help"}, []string{"Usage: qortal-oidc version"}},
		{[]string{"--help"}, []string{"qortal-oidc serve", "healthcheck", "nextcloud external-sites", "--secret", "--redirect-uri"}},
		{[]string{"clients", "--config", "/nonexistent.yaml", "add", "--help"}, []string{"-redirect-uri"}},
	} {
		var out, errOut bytes.Buffer
		err := run(t.Context(), c.args, strings.NewReader(""), &out, &errOut)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%q: error %v", c.args, err)
		}
		if errOut.Len() > 0 {
			t.Errorf("%q: wrote to stderr: %q", c.args, errOut.String())
		}
		for _, w := range c.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%q: usage lacks %q:\n%s", c.args, w, out.String())
			}
		}
	}
	// A backquoted word in a flag's usage becomes its argument name
	// ("-client-id qortal-oidc clients add"): the help must show "-client-id string".
	var out bytes.Buffer
	_ = run(t.Context(), []string{"nextcloud", "setup-command", "--help"}, strings.NewReader(""), &out, &out)
	if !strings.Contains(out.String(), "-client-id string") {
		t.Errorf("setup-command help names the -client-id argument wrongly:\n%s", out.String())
	}
	if entries, _ := os.ReadDir("."); len(entries) > 0 {
		t.Errorf("help wrote files: %v", entries)
	}
}

// The process exit codes: 0 for help, 1 for an unhealthy broker (what
// HEALTHCHECK reads), 2 for usage and configuration errors.
func TestExitCodes(t *testing.T) {
	if os.Getenv("QORTAL_OIDC_TEST_MAIN") == "1" {
		os.Args = append([]string{"qortal-oidc"}, strings.Fields(os.Getenv("QORTAL_OIDC_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		args string
		env  []string
		code int
	}{
		{"serve --help", nil, 0},
		{"clients add --help", nil, 0},
		{"healthcheck --url http://127.0.0.1:1/readyz --timeout 1s", nil, 1},
		{"no-such-command", nil, 2},
		{"serve", []string{"QORTAL_OIDC_ISSUER=http://id.example.org", "QORTAL_OIDC_DATA_DIR=" + filepath.Join(dir, "data")}, 2},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestExitCodes$")
		cmd.Env = append(os.Environ(), append(c.env, "QORTAL_OIDC_TEST_MAIN=1", "QORTAL_OIDC_TEST_ARGS="+c.args)...)
		out, _ := cmd.CombinedOutput()
		if got := cmd.ProcessState.ExitCode(); got != c.code {
			t.Errorf("qortal-oidc %s: exit %d, want %d\n%s", c.args, got, c.code, out)
		}
	}
	// The refused http:// issuer left nothing on disk: no data dir, no
	// generated key-encryption key.
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("a refused configuration wrote %s (%v)", filepath.Join(dir, "data"), err)
	}
}
