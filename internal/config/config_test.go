package config

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func envMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsAreValid(t *testing.T) {
	cfg, err := Load("", nil)
	if err != nil {
		t.Fatalf("defaults must validate: %v", err)
	}
	if cfg.UsesPostgres() {
		t.Fatal("default store must be embedded")
	}
}

func TestShippedConfigsLoad(t *testing.T) {
	for _, name := range []string{"dev.yaml", "production.example.yaml"} {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{}
			if name == "production.example.yaml" {
				// The example leaves secrets to the environment, as production should.
				env["QORTAL_OIDC_ADMIN_TOKEN"] = "a-long-enough-admin-token"
				env["QORTAL_OIDC_NEXTCLOUD_APP_PASSWORD"] = "app-password"
				env["QORTAL_OIDC_KEY_ENCRYPTION_KEY"] = strings.Repeat("ab", 32)
			}
			if _, err := Load(filepath.Join("..", "..", "configs", name), envMap(env)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestEnvOverridesFile(t *testing.T) {
	p := writeFile(t, "c.yaml", "issuer: https://file.example\nlisten: 127.0.0.1:1\n")
	cfg, err := Load(p, envMap(map[string]string{
		"QORTAL_OIDC_ISSUER":                 "https://env.example",
		"QORTAL_OIDC_LISTEN":                 "0.0.0.0:9000",
		"QORTAL_OIDC_DATA_DIR":               "/var/lib/x",
		"QORTAL_OIDC_DATABASE_URL":           "postgres://u@h/db",
		"QORTAL_OIDC_KEY_ENCRYPTION_KEY":     strings.Repeat("01", 32),
		"QORTAL_OIDC_ADMIN_TOKEN":            "0123456789abcdef0123",
		"QORTAL_OIDC_NEXTCLOUD_URL":          "https://cloud.example",
		"QORTAL_OIDC_NEXTCLOUD_USER":         "svc",
		"QORTAL_OIDC_NEXTCLOUD_APP_PASSWORD": "pw",
		"QORTAL_OIDC_NEXTCLOUD_TIMEOUT":      "3s",
		"QORTAL_OIDC_NEXTCLOUD_LOGIN_URL":    "https://cloud.example/index.php/apps/user_oidc/login/3",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Issuer != "https://env.example" || cfg.Listen != "0.0.0.0:9000" || cfg.DataDir != "/var/lib/x" ||
		!cfg.UsesPostgres() || cfg.Nextcloud.URL != "https://cloud.example" || cfg.Nextcloud.User != "svc" ||
		cfg.Nextcloud.AppPassword != "pw" || cfg.Nextcloud.Timeout != 3*time.Second || len(cfg.OIDC.KeyEncryptionKey) != 32 ||
		cfg.Nextcloud.LoginURL != "https://cloud.example/index.php/apps/user_oidc/login/3" {
		t.Fatalf("overrides not applied: %+v", cfg)
	}
	if len(cfg.Admin.Tokens) != 1 || cfg.Admin.Tokens[0].Token != "" || len(cfg.Admin.Tokens[0].TokenSHA256) != 64 {
		t.Fatalf("admin token must be kept only hashed: %+v", cfg.Admin.Tokens)
	}
}

func TestValidationNamesTheKey(t *testing.T) {
	cases := []struct{ yaml, env, want string }{
		{"issuer: ftp://x\n", "", "issuer:"},
		{"issuer: https://x/\n", "", "must not end with '/'"},
		{"listen: nope\n", "", "listen:"},
		{"database_url: mysql://x\n", "", "database_url:"},
		{"log: {level: loud}\n", "", "log.level"},
		{"oidc: {signing_alg: HS256}\n", "", "oidc.signing_alg"},
		{"provision: {user_id_template: 'x-{address}-{address}'}\n", "", "provision.user_id_template"},
		{"provision: {user_id_template: 'q/{address}'}\n", "", "not allowed"},
		{"nextcloud: {url: https://c.example}\n", "", "nextcloud.user"},
		{"admin: {tokens: [{name: a, token: short}]}\n", "", "at least 16"},
		{"oidc: {clients: [{id: c, redirect_uris: [https://rp/cb]}]}\n", "", "oidc.clients[0].secret"},
		{"oidc: {clients: [{id: c, public: true, redirect_uris: [/relative]}]}\n", "", "oidc.clients[0].redirect_uris"},
		{"nosuchkey: 1\n", "", "nosuchkey"},
		{"provision: {default_quota: lots}\n", "", "provision.default_quota"},
		{"admin: {addresses: [QgV4s3xnzLhVBEJxcYui4u4q11yhUHsd9w]}\n", "", "admin.addresses[0]"},
		{"", "QORTAL_OIDC_NEXTCLOUD_TIMEOUT=soon", "QORTAL_OIDC_NEXTCLOUD_TIMEOUT"},
		{"database_url: postgres://h/db\n", "", "oidc.key_encryption_key"},
		{"oidc: {key_encryption_key: tooshort}\n", "", "oidc.key_encryption_key"},
		{"nextcloud: {login_url: /apps/user_oidc/login/1}\n", "", "nextcloud.login_url"},
		{"", "QORTAL_OIDC_NEXTCLOUD_LOGIN_URL=https://u:p@cloud.example/login", "nextcloud.login_url"},
	}
	for _, tc := range cases {
		env := map[string]string{}
		if tc.env != "" {
			k, v, _ := strings.Cut(tc.env, "=")
			env[k] = v
		}
		_, err := Load(writeFile(t, "c.yaml", tc.yaml), envMap(env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config %q env %q: want error mentioning %q, got %v", tc.yaml, tc.env, tc.want, err)
		}
	}
}

func TestSecretFiles(t *testing.T) {
	tok := writeFile(t, "tok", "  a-token-from-a-file-0001\n")
	pw := writeFile(t, "pw", "secret-app-password\n")
	p := writeFile(t, "c.yaml", "admin: {tokens: [{name: ops, token_file: "+tok+"}]}\nnextcloud: {url: https://c, user: u, app_password_file: "+pw+"}\n")
	cfg, err := Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Nextcloud.AppPassword != "secret-app-password" {
		t.Fatalf("app password file not read: %q", cfg.Nextcloud.AppPassword)
	}
	if cfg.Admin.Tokens[0].Name != "ops" || cfg.Admin.Tokens[0].Token != "" {
		t.Fatalf("token file not hashed: %+v", cfg.Admin.Tokens[0])
	}
}

func TestDevKeyEncryptionKeyIsStable(t *testing.T) {
	cfg := Default()
	cfg.DataDir = t.TempDir()
	if err := EnsureDevKeyEncryptionKey(&cfg); err != nil {
		t.Fatal(err)
	}
	again := Default()
	again.DataDir = cfg.DataDir
	if err := EnsureDevKeyEncryptionKey(&again); err != nil {
		t.Fatal(err)
	}
	if len(cfg.OIDC.KeyEncryptionKey) != 32 || string(cfg.OIDC.KeyEncryptionKey) != string(again.OIDC.KeyEncryptionKey) {
		t.Fatal("the generated key must be 32 bytes and reused on the next start")
	}
	pg := Default()
	pg.DatabaseURL = "postgres://h/db"
	if err := EnsureDevKeyEncryptionKey(&pg); err == nil {
		t.Fatal("Postgres deployments must not get a per-replica generated key")
	}
}

func TestUserIDTemplate(t *testing.T) {
	if got := UserIDFor("qortal-{address_lower}", "QgV4s3"); got != "qortal-qgv4s3" {
		t.Fatalf("got %q", got)
	}
	if err := CheckUserIDTemplate(strings.Repeat("x", 31) + "{address}"); err == nil {
		t.Fatal("a template that overflows 64 characters must be rejected")
	}
}

func TestPerfSettingsFromEnvironment(t *testing.T) {
	env := map[string]string{
		"QORTAL_OIDC_LOGIN_RATE_LIMIT_PER_IP_PER_MINUTE":           "1000",
		"QORTAL_OIDC_LOGIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE":      "2000",
		"QORTAL_OIDC_LOGIN_RATE_LIMIT_AUTHORIZE_PER_IP_PER_MINUTE": "3000",
		"QORTAL_OIDC_DATABASE_MAX_CONNS":                           "40",
		"QORTAL_OIDC_DEBUG_PPROF_LISTEN":                           "127.0.0.1:6060",
	}
	cfg, err := Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	rl := cfg.Login.RateLimit
	if rl.PerIPPerMinute != 1000 || rl.PerAddressPerMinute != 2000 || rl.AuthorizePerIPPerMinute != 3000 ||
		cfg.DatabaseMaxConns != 40 || cfg.Debug.PprofListen != "127.0.0.1:6060" {
		t.Fatalf("got %+v, %d, %q", rl, cfg.DatabaseMaxConns, cfg.Debug.PprofListen)
	}
	if Default().Debug.PprofListen != "" {
		t.Fatal("pprof must be off by default")
	}
	for _, bad := range []map[string]string{
		{"QORTAL_OIDC_LOGIN_RATE_LIMIT_PER_IP_PER_MINUTE": "0"},
		{"QORTAL_OIDC_LOGIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE": "many"},
		{"QORTAL_OIDC_DATABASE_MAX_CONNS": "-1"},
		{"QORTAL_OIDC_DEBUG_PPROF_LISTEN": "0.0.0.0:6060"},
		{"QORTAL_OIDC_DEBUG_PPROF_LISTEN": ":6060"},
		{"QORTAL_OIDC_DEBUG_PPROF_LISTEN": "10.0.0.1:6060"},
	} {
		if _, err := Load("", func(k string) string { return bad[k] }); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	for _, ok := range []string{"[::1]:6060", "localhost:6061", "127.0.0.2:6060"} {
		if _, err := Load("", func(k string) string { return map[string]string{"QORTAL_OIDC_DEBUG_PPROF_LISTEN": ok}[k] }); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
}

func TestAccessTokenFormatAndCORSOrigins(t *testing.T) {
	cfg, err := Load("", nil)
	if err != nil || cfg.OIDC.AccessTokenFormat != AccessTokenOpaque || len(cfg.OIDC.CORSAllowedOrigins) != 0 {
		t.Fatalf("defaults: format %q, origins %v, %v", cfg.OIDC.AccessTokenFormat, cfg.OIDC.CORSAllowedOrigins, err)
	}
	cfg, err = Load("", envMap(map[string]string{
		"QORTAL_OIDC_ACCESS_TOKEN_FORMAT":  "jwt",
		"QORTAL_OIDC_CORS_ALLOWED_ORIGINS": "https://app.example, http://localhost:5173",
	}))
	if err != nil || cfg.OIDC.AccessTokenFormat != AccessTokenJWT ||
		strings.Join(cfg.OIDC.CORSAllowedOrigins, " ") != "https://app.example http://localhost:5173" {
		t.Fatalf("env: format %q, origins %v, %v", cfg.OIDC.AccessTokenFormat, cfg.OIDC.CORSAllowedOrigins, err)
	}
	for env, key := range map[string]string{
		"QORTAL_OIDC_ACCESS_TOKEN_FORMAT=JWE":                          "oidc.access_token_format",
		"QORTAL_OIDC_CORS_ALLOWED_ORIGINS=*":                           "oidc.cors_allowed_origins[0]",
		"QORTAL_OIDC_CORS_ALLOWED_ORIGINS=https://app.example/":        "oidc.cors_allowed_origins[0]",
		"QORTAL_OIDC_CORS_ALLOWED_ORIGINS=https://ok.example,app.test": "oidc.cors_allowed_origins[1]",
		"QORTAL_OIDC_CORS_ALLOWED_ORIGINS=https://App.example":         "oidc.cors_allowed_origins[0]",
	} {
		k, v, _ := strings.Cut(env, "=")
		if _, err := Load("", envMap(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: error %v does not name %s", env, err, key)
		}
	}
}

// Processes starting together on a fresh data dir must all end up with the
// same key and none with an error (the loser of the create race reads the
// winner's file, which is never seen half-written).
func TestDevKeyEncryptionKeyRace(t *testing.T) {
	for round := range 50 {
		dir := t.TempDir()
		keys := make([][]byte, 4)
		errs := make([]error, 4)
		var wg sync.WaitGroup
		for i := range keys {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cfg := Default()
				cfg.DataDir = dir
				errs[i] = EnsureDevKeyEncryptionKey(&cfg)
				keys[i] = cfg.OIDC.KeyEncryptionKey
			}()
		}
		wg.Wait()
		for i := range keys {
			if errs[i] != nil {
				t.Fatalf("round %d, process %d: %v", round, i, errs[i])
			}
			if string(keys[i]) != string(keys[0]) || len(keys[i]) != 32 {
				t.Fatalf("round %d: processes got different keys", round)
			}
		}
		if left, _ := filepath.Glob(filepath.Join(dir, ".key-encryption-key-*")); len(left) != 0 {
			t.Fatalf("temporary files left behind: %v", left)
		}
	}
}
