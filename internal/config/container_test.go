package config

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// No container engine runs where the tests run, so the container files are
// checked as text: every QORTAL_OIDC_* variable the compose file, the
// Dockerfile and the README's smallest working set name is one the broker
// knows (the env table of this package) and is in the README's config
// table; every secret path is a declared, mounted secret; base images are
// pinned by digest; the build context leaves out what must not leave the
// machine.

func repoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var envName = regexp.MustCompile(`QORTAL_OIDC_[A-Z0-9_]+`)

func knownEnv() map[string]bool {
	known := map[string]bool{}
	for _, b := range envBindings {
		known[b.name] = true
	}
	return known
}

// readmeTableEnv lists the variables named in the README's configuration
// table (its rows start with "| `").
func readmeTableEnv(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, line := range strings.Split(repoFile(t, "README.md"), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		env := cells[2]
		// Rows abbreviate siblings two ways: `QORTAL_OIDC_SMTP_HOST`, `_PORT`
		// (replaces the last word) and `QORTAL_OIDC_X_PASSWORD` / `_FILE`
		// (appends); a candidate counts only if the broker reads it.
		known := knownEnv()
		var last string
		for _, m := range regexp.MustCompile("`([A-Z0-9_]+)`").FindAllStringSubmatch(env, -1) {
			name := m[1]
			switch {
			case strings.HasPrefix(name, "QORTAL_OIDC_"):
				out[name] = true
				last = name
			case strings.HasPrefix(name, "_") && last != "":
				for _, cand := range []string{last + name, last[:strings.LastIndex(last, "_")] + name} {
					if known[cand] {
						out[cand] = true
					}
				}
			}
		}
	}
	return out
}

func TestComposeFileNamesOnlyKnownSettings(t *testing.T) {
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       any               `yaml:"build"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Secrets     []string          `yaml:"secrets"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
		Secrets map[string]struct {
			File string `yaml:"file"`
		} `yaml:"secrets"`
	}
	dec := yaml.NewDecoder(strings.NewReader(repoFile(t, "docker-compose.yml")))
	dec.KnownFields(false)
	if err := dec.Decode(&compose); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	broker, ok := compose.Services["broker"]
	if !ok || broker.Build == nil {
		t.Fatal("docker-compose.yml has no broker service built from this repository")
	}
	if _, ok := compose.Services["postgres"]; !ok {
		t.Fatal("docker-compose.yml has no postgres service")
	}
	known, table := knownEnv(), readmeTableEnv(t)
	secretPath := regexp.MustCompile(`^/run/secrets/([a-z0-9_]+)$`)
	seen := 0
	for svcName, svc := range compose.Services {
		if svc.Image != "" && svc.Build == nil && !regexp.MustCompile(`@sha256:[0-9a-f]{64}$`).MatchString(svc.Image) {
			t.Errorf("service %s: image %q is not pinned by digest", svcName, svc.Image)
		}
		for name, value := range svc.Environment {
			if m := secretPath.FindStringSubmatch(value); m != nil {
				if _, declared := compose.Secrets[m[1]]; !declared || !slices.Contains(svc.Secrets, m[1]) {
					t.Errorf("service %s: %s=%s is not a declared secret mounted in the service", svcName, name, value)
				}
			}
			if !strings.HasPrefix(name, "QORTAL_OIDC_") {
				continue
			}
			seen++
			if svcName != "broker" {
				t.Errorf("service %s sets broker variable %s", svcName, name)
			}
			if !known[name] {
				t.Errorf("docker-compose.yml sets %s, which the broker does not read", name)
			}
			if !table[name] {
				t.Errorf("docker-compose.yml sets %s, which the README's configuration table does not list", name)
			}
			if strings.HasSuffix(name, "_PASSWORD") || strings.HasSuffix(name, "_TOKEN") || name == "QORTAL_OIDC_KEY_ENCRYPTION_KEY" {
				t.Errorf("docker-compose.yml passes the secret %s in the environment: use its _FILE form and a secret", name)
			}
		}
	}
	if seen < 5 {
		t.Fatalf("only %d QORTAL_OIDC_* variables found: the test is not reading the file it thinks", seen)
	}
	for name, s := range compose.Secrets {
		if !strings.HasPrefix(s.File, "./secrets/") {
			t.Errorf("secret %s comes from %q, not from ./secrets/ (which .gitignore and .dockerignore keep out)", name, s.File)
		}
	}
}

func TestDockerfile(t *testing.T) {
	df := repoFile(t, "Dockerfile")
	args := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^ARG ([A-Z_]+)=(\S+)`).FindAllStringSubmatch(df, -1) {
		args[m[1]] = m[2]
	}
	froms := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(df, -1)
	if len(froms) < 2 {
		t.Fatalf("want a build and a runtime stage, found %d FROM lines", len(froms))
	}
	for _, m := range froms {
		image := m[1]
		if strings.HasPrefix(image, "${") {
			image = args[strings.Trim(image, "${}")]
		}
		if !regexp.MustCompile(`^[a-z0-9./:_-]+@sha256:[0-9a-f]{64}$`).MatchString(image) {
			t.Errorf("FROM %s (%s) is not pinned by digest", m[1], image)
		}
	}
	if !regexp.MustCompile(`(?m)^HEALTHCHECK .*\n?.*CMD \["/usr/local/bin/qortal-oidc", "healthcheck"`).MatchString(df) {
		t.Error("HEALTHCHECK does not run qortal-oidc healthcheck")
	}
	known := knownEnv()
	for _, name := range envName.FindAllString(df, -1) {
		if !known[name] {
			t.Errorf("Dockerfile sets %s, which the broker does not read", name)
		}
	}
	ignore := strings.Fields(repoFile(t, ".dockerignore"))
	for _, must := range []string{".git", "data", "secrets", "bin", "node_modules", "interop", "qortal-oidc"} {
		if !slices.Contains(ignore, must) {
			t.Errorf(".dockerignore does not leave out %s", must)
		}
	}
}

// The README's smallest working set of environment variables for the image
// names only settings the broker knows, and is enough: with those values
// (secret files stubbed) the configuration loads.
func TestReadmeSmallestEnvironment(t *testing.T) {
	readme := repoFile(t, "README.md")
	start, end := strings.Index(readme, "<!-- smallest-env -->"), strings.Index(readme, "<!-- /smallest-env -->")
	if start < 0 || end < start {
		t.Fatal("README has no <!-- smallest-env --> block")
	}
	block := readme[start:end]
	known := knownEnv()
	env := map[string]string{}
	dir := t.TempDir()
	for _, m := range regexp.MustCompile(`(QORTAL_OIDC_[A-Z0-9_]+)=(\S+)`).FindAllStringSubmatch(block, -1) {
		name, value := m[1], m[2]
		if !known[name] {
			t.Errorf("README's smallest set names %s, which the broker does not read", name)
		}
		if strings.HasSuffix(name, "_FILE") {
			f := filepath.Join(dir, filepath.Base(value))
			content := "a-long-enough-secret-value-0123456789"
			if name == "QORTAL_OIDC_KEY_ENCRYPTION_KEY_FILE" {
				content = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
			}
			if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			value = f
		}
		env[name] = value
	}
	if len(env) < 4 {
		t.Fatalf("smallest set has only %d variables: %v", len(env), env)
	}
	if _, err := Load("", func(k string) string { return env[k] }); err != nil {
		t.Fatalf("the README's smallest set does not load: %v", err)
	}
}
