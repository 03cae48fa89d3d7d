package config

import (
	"strings"
	"testing"
)

func TestQAppsOrigin(t *testing.T) {
	base := func() Config {
		c := Default()
		c.Issuer = "https://id.example.org"
		c.Qortal.NodeURL = "http://127.0.0.1:12391"
		c.QApps.Origin = "https://qapps.example.org"
		return c
	}
	if err := base().Validate(); err != nil {
		t.Fatalf("valid gateway config: %v", err)
	}
	for name, tc := range map[string]struct {
		mut  func(*Config)
		want string
	}{
		"issuer origin":      {func(c *Config) { c.QApps.Origin = "https://ID.example.org" }, "must not be the issuer's origin"},
		"issuer with path":   {func(c *Config) { c.Issuer = "https://qapps.example.org/broker" }, "must not be the issuer's origin"},
		"path":               {func(c *Config) { c.QApps.Origin = "https://qapps.example.org/apps" }, "no path"},
		"no node":            {func(c *Config) { c.Qortal.NodeURL = "" }, "qortal.node_url"},
		"http public":        {func(c *Config) { c.QApps.Origin = "http://qapps.example.org" }, "must be https"},
		"same listener":      {func(c *Config) { c.QApps.Listen = c.Listen }, "must differ from listen"},
		"bad frame ancestor": {func(c *Config) { c.QApps.NextcloudOrigin = "cloud" }, "qapps.nextcloud_origin"},
		"long group cache":   {func(c *Config) { c.QApps.GroupCacheTTL = 3600e9 }, "at most 10m"},
		"negative cache max": {func(c *Config) { c.QApps.CacheMaxBytes = -1 }, "qapps.cache_max_bytes"},
		"tiny cache max":     {func(c *Config) { c.QApps.CacheMaxBytes = 1024 }, "at least 1048576"},
	} {
		c := base()
		tc.mut(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
	c := base()
	c.QApps.CacheMaxBytes = 0
	if err := c.Validate(); err != nil {
		t.Errorf("unbounded cache: %v", err)
	}
	c.QApps.Origin = "http://127.0.0.1:9090"
	if err := c.Validate(); err != nil {
		t.Errorf("loopback http origin: %v", err)
	}
}

func TestQAppsEnvAndKeyFile(t *testing.T) {
	key := writeFile(t, "apikey.txt", "  node-key \n")
	env := map[string]string{
		"QORTAL_OIDC_QORTAL_NODE_URL": "http://127.0.0.1:12391", "QORTAL_OIDC_QORTAL_API_KEY_FILE": key,
		"QORTAL_OIDC_QAPPS_ORIGIN": "http://localhost:9090", "QORTAL_OIDC_QAPPS_LISTEN": "127.0.0.1:9090",
		"QORTAL_OIDC_QAPPS_CACHE_MAX_BYTES": "5368709120",
	}
	c, err := Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Qortal.APIKey != "node-key" || c.QApps.Origin != "http://localhost:9090" || c.QApps.Listen != "127.0.0.1:9090" || c.QApps.CacheMaxBytes != 5<<30 {
		t.Errorf("loaded %+v %+v", c.Qortal, c.QApps)
	}
	if d := Default().QApps.CacheMaxBytes; d != 1<<30 {
		t.Errorf("default qapps.cache_max_bytes = %d, want 1 GiB", d)
	}
}
