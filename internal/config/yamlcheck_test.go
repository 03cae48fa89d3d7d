package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Every problem of a file, its environment and its secret files is reported
// in one go, each by the key the operator wrote, never by a Go type name.
func TestLoadReportsEveryProblemByKey(t *testing.T) {
	t.Parallel()
	p := writeConfig(t, `
issuer: https://id.example.org
isuer: typo
login:
  challenge_ttl: 5 minutes
  nope: 1
  rate_limit:
    per_ip_per_minut: 3
oidc:
  clients:
    - id: nc
      redirect_uris: https://cloud.example.org/cb
nextcloud:
  timeout: [1, 2]
  max_retries: many
`)
	_, err := Load(p, func(k string) string {
		return map[string]string{"QORTAL_OIDC_SHUTDOWN_TIMEOUT": "soon"}[k]
	})
	if err == nil {
		t.Fatal("Load accepted a broken file")
	}
	msg := err.Error()
	for _, want := range []string{
		"isuer (line 3): unknown key; did you mean issuer?",
		"login.challenge_ttl (line 5): \"5 minutes\" is not a duration",
		"login.nope (line 6): unknown key",
		"login.rate_limit.per_ip_per_minut (line 8): unknown key; did you mean login.rate_limit.per_ip_per_minute?",
		"oidc.clients[0].redirect_uris (line 12): must be a list",
		"nextcloud.timeout (line 14): must be a duration",
		"nextcloud.max_retries (line 15): must be a whole number",
		"QORTAL_OIDC_SHUTDOWN_TIMEOUT=\"soon\"",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q:\n%s", want, msg)
		}
	}
	for _, leak := range []string{"config.Config", "config.Login", "time.Duration", "!!str"} {
		if strings.Contains(msg, leak) {
			t.Errorf("error names a Go type (%s):\n%s", leak, msg)
		}
	}
}

// Value errors of the file, the secrets and the environment come together.
func TestLoadReportsValueAndSecretErrorsTogether(t *testing.T) {
	t.Parallel()
	p := writeConfig(t, `
issuer: https://id.example.org
log:
  level: loud
admin:
  tokens:
    - name: short
      token: abc
nextcloud:
  app_password_file: /nonexistent/app-password
`)
	_, err := Load(p, nil)
	if err == nil {
		t.Fatal("Load accepted a broken file")
	}
	for _, want := range []string{"log.level", "admin.tokens[0] (short)", "nextcloud.app_password_file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestPlainHTTPIssuerOnlyOnLoopback(t *testing.T) {
	t.Parallel()
	for issuer, ok := range map[string]bool{
		"http://127.0.0.1:8080":   true,
		"http://localhost:8080":   true,
		"http://[::1]:8080":       true,
		"https://id.example.org":  true,
		"http://id.example.org":   false,
		"http://10.0.0.5:8080":    false,
		"http://broker:8080/auth": false,
	} {
		c := Default()
		c.Issuer = issuer
		err := c.Validate()
		if ok && err != nil {
			t.Errorf("%s refused: %v", issuer, err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "issuer")) {
			t.Errorf("%s accepted (err %v)", issuer, err)
		}
		c.OIDC.AllowInsecureIssuer = true
		if err := c.Validate(); err != nil {
			t.Errorf("%s with allow_insecure_issuer: %v", issuer, err)
		}
	}
}

func TestDatabasePasswordFile(t *testing.T) {
	t.Parallel()
	pw := filepath.Join(t.TempDir(), "db_password")
	if err := os.WriteFile(pw, []byte("s3cr:t/pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=" // 32 bytes, base64
	env := map[string]string{
		"QORTAL_OIDC_DATABASE_URL":           "postgres://broker@db:5432/broker?sslmode=disable",
		"QORTAL_OIDC_DATABASE_PASSWORD_FILE": pw,
		"QORTAL_OIDC_KEY_ENCRYPTION_KEY":     key,
	}
	cfg, err := Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != "postgres://broker:s3cr%3At%2Fpw@db:5432/broker?sslmode=disable" {
		t.Fatalf("database_url = %q", cfg.DatabaseURL)
	}
	env["QORTAL_OIDC_DATABASE_URL"] = "postgres://broker:other@db/broker"
	if _, err := Load("", func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "database_password_file") {
		t.Fatalf("a password in both places: %v", err)
	}
}
