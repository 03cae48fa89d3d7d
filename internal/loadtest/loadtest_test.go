package loadtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/server"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

const (
	clientID = "nextcloud"
	secret   = "rp-secret-0123456789-0123456789-abcdef"
	redirect = "https://cloud.example.org/index.php/apps/user_oidc/code"
)

// startBroker runs a real broker on loopback with one linked address.
func startBroker(t testing.TB, kind storetest.Kind, alg string) (string, ed25519.PrivateKey, *server.Server) {
	t.Helper()
	nc := ocsfake.New()
	t.Cleanup(nc.Close)
	nc.AddAccount("admin", "app-password", true)
	hs := httptest.NewUnstartedServer(nil)
	cfg := config.Default()
	cfg.Issuer = "http://" + hs.Listener.Addr().String()
	cfg.OIDC.AllowInsecureIssuer = true
	cfg.Nextcloud.URL, cfg.Nextcloud.User, cfg.Nextcloud.AppPassword = nc.URL(), "admin", "app-password"
	cfg.OIDC.KeyEncryptionKey = bytes.Repeat([]byte{7}, 32)
	cfg.OIDC.SigningAlg = alg
	cfg.OIDC.Clients = []config.Client{{ID: clientID, Name: "Nextcloud", Secret: secret, RedirectURIs: []string{redirect}}}
	cfg.Login.RateLimit = config.RateLimit{PerIPPerMinute: 1 << 20, PerAddressPerMinute: 1 << 20, AuthorizePerIPPerMinute: 1 << 20}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t, kind)
	srv, err := server.NewWithStore(context.Background(), cfg, slog.New(slog.DiscardHandler), st)
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = srv.Handler()
	hs.Start()
	t.Cleanup(hs.Close)

	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{42}, ed25519.SeedSize))
	addr := qortal.AddressFromPublicKey(key.Public().(ed25519.PublicKey))
	if _, err := st.CreateMapping(context.Background(), store.Mapping{QortalAddress: addr, NextcloudUserID: "alice-nc", Status: store.StatusLinked},
		store.AuditEntry{Actor: "test", Action: "mapping.create", Subject: addr}); err != nil {
		t.Fatal(err)
	}
	return cfg.Issuer, key, srv
}

func TestRunDrivesCompleteLogins(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			issuer, key, _ := startBroker(t, kind, "EdDSA")
			o := Options{Issuer: issuer, ClientID: clientID, Secret: secret, RedirectURI: redirect, Key: key,
				Concurrency: 2, Logins: 20, Warmup: 2, ServerPID: os.Getpid()}
			r, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if r.Logins != 20 || r.ErrorCount() != 0 {
				t.Fatalf("logins %d, errors %v", r.Logins, r.Errors)
			}
			if r.P50 <= 0 || r.P99 < r.P50 || r.Max < r.P99 || r.LoginsPerS <= 0 {
				t.Fatalf("implausible figures %+v", r)
			}
			if r.ServerCPU <= 0 || r.ServerRSSKB <= 0 {
				t.Fatalf("no cpu/rss read from /proc: %+v", r)
			}
			var out strings.Builder
			r.Print(&out, o)
			for _, want := range []string{"20 ok, 0 errors", "logins/s", "p99", "ms/login"} {
				if !strings.Contains(out.String(), want) {
					t.Fatalf("report lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// A login the broker refuses is counted by step and kind, not hidden.
func TestRunCountsErrorsByKind(t *testing.T) {
	issuer, _, _ := startBroker(t, storetest.SQLite, "ES256")
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize)) // not linked
	o := Options{Issuer: issuer, ClientID: clientID, Secret: secret, RedirectURI: redirect, Key: other, Concurrency: 1, Logins: 3}
	r, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if r.Logins != 0 || r.Errors["verify: status 403 not_linked"] != 3 {
		t.Fatalf("logins %d, errors %v", r.Logins, r.Errors)
	}
	// A wrong client secret fails at the token step.
	issuer, key, _ := startBroker(t, storetest.SQLite, "ES256")
	o = Options{Issuer: issuer, ClientID: clientID, Secret: "wrong", RedirectURI: redirect, Key: key, Concurrency: 1, Logins: 2}
	if r, err = Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if r.Errors["token: status 401 invalid_client"]+r.Errors["token: status 400 invalid_client"] != 2 {
		t.Fatalf("errors %v", r.Errors)
	}
}

func TestRunIsBoundedInTime(t *testing.T) {
	issuer, key, _ := startBroker(t, storetest.SQLite, "EdDSA")
	o := Options{Issuer: issuer, ClientID: clientID, Secret: secret, RedirectURI: redirect, Key: key,
		Concurrency: 2, Logins: 1 << 30, Duration: 500 * time.Millisecond, Warmup: 1}
	r, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	// The bound cuts in-flight logins short (they are not errors); the
	// slack is for a loaded machine.
	if r.Elapsed > o.Duration+5*time.Second || r.ErrorCount() != 0 {
		t.Fatalf("measured %s for a %s bound, %d logins, errors %v", r.Elapsed, o.Duration, r.Logins, r.Errors)
	}
}

func TestRunRefusesWhatCannotStart(t *testing.T) {
	if _, err := Run(context.Background(), Options{Issuer: "http://127.0.0.1:1", ClientID: "c", RedirectURI: "https://x/"}); err == nil {
		t.Fatal("no key accepted")
	}
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	hs := httptest.NewServer(http.NotFoundHandler())
	defer hs.Close()
	_, err := Run(context.Background(), Options{Issuer: hs.URL, ClientID: "c", RedirectURI: "https://x/", Key: key})
	if err == nil || !strings.Contains(err.Error(), "discovery") {
		t.Fatalf("err %v", err)
	}
}

func TestStatCPUParsesOwnProcess(t *testing.T) {
	cpu, ppid, err := statCPU(os.Getpid())
	if err != nil || ppid != os.Getppid() || cpu < 0 {
		t.Fatalf("cpu %s ppid %d (want %d) err %v", cpu, ppid, os.Getppid(), err)
	}
	if _, _, err := statCPU(1 << 30); err == nil {
		t.Fatal("no error for a missing process")
	}
}

func TestHasAudience(t *testing.T) {
	for _, tc := range []struct {
		aud  any
		want bool
	}{
		{"nextcloud", true}, {[]any{"other", "nextcloud"}, true}, {"next", false},
		{[]any{"nextcloud2"}, false}, {nil, false}, {42.0, false},
	} {
		if got := hasAudience(tc.aud, "nextcloud"); got != tc.want {
			t.Errorf("hasAudience(%v) = %v", tc.aud, got)
		}
	}
}
