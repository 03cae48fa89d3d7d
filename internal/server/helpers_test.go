package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/logging"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

const (
	adminToken = "test-admin-token-0123456789"
	ncUser     = "broker"
	ncPassword = "nc-app-password-must-never-leak"
)

// broker is a running broker on loopback with a fake Nextcloud behind it.
type broker struct {
	t     testing.TB
	srv   *Server
	http  *httptest.Server
	nc    *ocsfake.Server
	store store.Store
	logs  *lockedBuffer
}

func testConfig(ncURL string) config.Config {
	cfg := config.Default()
	cfg.Issuer = "http://127.0.0.1:1"
	cfg.Nextcloud.URL = ncURL
	cfg.Nextcloud.User = ncUser
	cfg.Nextcloud.AppPassword = ncPassword
	cfg.Nextcloud.MaxRetries = 0
	cfg.Admin.Tokens = []config.AdminToken{{Name: "test", Token: adminToken}}
	cfg.OIDC.KeyEncryptionKey = bytes.Repeat([]byte{7}, 32)
	cfg.OIDC.SigningAlg = "ES256" // RSA key generation per test broker would dominate the run
	return cfg
}

// newBroker starts a broker on st (shared stores make replicas).
func newBroker(t testing.TB, st store.Store, nc *ocsfake.Server, mutate ...func(*config.Config)) *broker {
	t.Helper()
	cfg := testConfig(nc.URL())
	for _, m := range mutate {
		m(&cfg)
	}
	for i, tok := range cfg.Admin.Tokens {
		cfg.Admin.Tokens[i] = config.HashAdminToken(tok)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	log := logging.New(logs, logging.Options{Level: slog.LevelDebug}) // as serve logs
	srv, err := NewWithStore(context.Background(), cfg, log, st)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &broker{t: t, srv: srv, http: hs, nc: nc, store: st, logs: logs}
}

func newFakeNextcloud(t testing.TB) *ocsfake.Server {
	nc := ocsfake.New()
	nc.AddAccount(ncUser, ncPassword, true)
	t.Cleanup(nc.Close)
	return nc
}

type response struct {
	Status int
	Body   map[string]any
	Raw    string
	Header http.Header
}

func (r response) errCode() string {
	e, _ := r.Body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (b *broker) do(method, path string, body any, headers ...string) response {
	b.t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	default:
		j, _ := json.Marshal(v)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, b.http.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{Status: res.StatusCode, Raw: string(raw), Header: res.Header}
	checkContract(b.t, b.srv, req, res, raw)
	_ = json.Unmarshal(raw, &out.Body)
	// No answer may ever carry a password, whatever the endpoint.
	if strings.Contains(out.Raw, ncPassword) || strings.Contains(strings.ToLower(out.Raw), "password\":") {
		b.t.Fatalf("response leaks a password: %s", out.Raw)
	}
	return out
}

func (b *broker) sign(acct qortaltest.Account, msg string) qortal.Proof {
	return qortal.Sign(acct.PrivateKey, []byte(msg))
}

// lockedBuffer collects logs written from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type configT = config.Config
