package login

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/clocktest"
	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/oidcprovider"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// fakeProvider stands in for oidcprovider.Provider in handler unit tests
// (the end-to-end tests use the real one): it records what the handler
// asked for and answers like the provider would.
type fakeProvider struct {
	mu        sync.Mutex
	clk       *clocktest.Clock
	requests  map[string]*oidcprovider.AuthRequestInfo
	completed map[string]store.Mapping
	denied    map[string]string
	store     store.Store // where a completion's LoginRecord goes
}

func newFakeProvider(clk *clocktest.Clock) *fakeProvider {
	return &fakeProvider{clk: clk, requests: map[string]*oidcprovider.AuthRequestInfo{},
		completed: map[string]store.Mapping{}, denied: map[string]string{}}
}

func (p *fakeProvider) add(id, clientID, clientName string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests[id] = &oidcprovider.AuthRequestInfo{
		ID: id, ClientID: clientID, ClientName: clientName, RedirectURI: "https://rp.example/cb",
		Scopes: []string{"openid"}, ExpiresAt: p.clk.Now().Add(10 * time.Minute),
	}
}

func (p *fakeProvider) AuthRequest(_ context.Context, id string) (oidcprovider.AuthRequestInfo, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ar, ok := p.requests[id]
	if !ok || !p.clk.Now().Before(ar.ExpiresAt) {
		return oidcprovider.AuthRequestInfo{}, fmt.Errorf("auth request %s: %w", id, store.ErrNotFound)
	}
	return *ar, nil
}

func (p *fakeProvider) CompleteLogin(ctx context.Context, id string, m store.Mapping, _ time.Time, rec ...oidcprovider.LoginRecord) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ar, ok := p.requests[id]
	if !ok || ar.Done {
		return "", store.ErrNotFound
	}
	// Like the real provider, the record's writes go with the completion
	// (here one after the other: the fake has no transaction).
	for _, r := range rec {
		if r.Challenge != nil {
			if err := p.store.UseChallenge(ctx, *r.Challenge, p.clk.Now()); err != nil {
				return "", err
			}
		}
		for _, a := range r.Audit {
			if err := p.store.AppendAudit(ctx, a); err != nil {
				return "", err
			}
		}
	}
	ar.Done = true
	p.completed[id] = m
	return "https://rp.example/cb?code=code-" + id + "&state=s", nil
}

func (p *fakeProvider) DenyLogin(_ context.Context, id, description string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ar, ok := p.requests[id]
	if !ok || ar.Done {
		return "", store.ErrNotFound
	}
	ar.Done = true
	p.denied[id] = description
	return "https://rp.example/cb?error=access_denied&error_description=" + url.QueryEscape(description), nil
}

type env struct {
	t     *testing.T
	clk   *clocktest.Clock
	store store.Store
	prov  *fakeProvider
	srv   *httptest.Server
	accts map[string]qortaltest.Account
}

func testConfig() config.Config {
	cfg := config.Default()
	cfg.Issuer = "https://id.example.org"
	cfg.Login.RateLimit.PerIPPerMinute = 1000
	cfg.Login.RateLimit.PerAddressPerMinute = 1000
	// Replicas share the key encryption key, and with it the key that
	// seals login challenges.
	cfg.OIDC.KeyEncryptionKey = bytes.Repeat([]byte{7}, 32)
	return cfg
}

// newEnv starts the login handler on a loopback server with a real SQLite
// store, a fake provider holding auth request "ar1" for client "nextcloud",
// and alice linked to Nextcloud user "alice".
func newEnv(t *testing.T, cfg config.Config) *env {
	t.Helper()
	e := baseEnv(t, clocktest.New(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)))
	e.serve(cfg, Deps{})
	e.link("alice", "alice", store.StatusLinked)
	return e
}

// baseEnv is an env with a fresh SQLite store and a fake provider holding
// auth request "ar1" for client "nextcloud", not serving yet.
func baseEnv(t *testing.T, clk *clocktest.Clock) *env {
	t.Helper()
	e := &env{t: t, clk: clk, store: storetest.Open(t, storetest.SQLite), prov: newFakeProvider(clk), accts: qortaltest.Accounts(t)}
	e.prov.add("ar1", "nextcloud", "Example Cloud")
	e.prov.store = e.store
	return e
}

// serve starts the login handler with deps, completed with the env's
// store, provider and clock, on a loopback server.
func (e *env) serve(cfg config.Config, deps Deps) {
	e.t.Helper()
	deps.Store, deps.Provider, deps.Now = e.store, e.prov, e.clk.Now
	h, err := New(cfg, deps)
	if err != nil {
		e.t.Fatal(err)
	}
	r := mux.NewRouter()
	h.Register(r)
	e.srv = httptest.NewServer(r)
	e.t.Cleanup(e.srv.Close)
}

func (e *env) link(acct, user string, status store.MappingStatus) {
	e.t.Helper()
	_, err := e.store.CreateMapping(context.Background(), store.Mapping{
		QortalAddress: e.accts[acct].Address, NextcloudUserID: user, DisplayName: user, Status: status,
	}, store.AuditEntry{Actor: "test", Action: "mapping.create", Subject: e.accts[acct].Address, Detail: "{}"})
	if err != nil {
		e.t.Fatal(err)
	}
}

type response struct {
	status int
	header http.Header
	body   map[string]any
}

func (r response) code() string {
	if e, ok := r.body["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

func (e *env) post(path string, body any) response {
	e.t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			e.t.Fatal(err)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, body: map[string]any{}}
	if err := json.Unmarshal(raw, &out.body); err != nil {
		e.t.Fatalf("POST %s: %d non-JSON body %q", path, res.StatusCode, raw)
	}
	return out
}

type challenge struct{ ID, Message string }

func (e *env) challenge(authRequestID, acct string) challenge {
	e.t.Helper()
	r := e.post("/login/challenge", map[string]string{"authRequestId": authRequestID, "qortalAddress": e.accts[acct].Address})
	if r.status != http.StatusOK {
		e.t.Fatalf("challenge: %d %v", r.status, r.body)
	}
	return challenge{ID: r.body["challengeId"].(string), Message: r.body["message"].(string)}
}

// proof signs c with signer's key and presents it with pubOf's public key.
func (e *env) proof(c challenge, signer, pubOf string) map[string]string {
	p := qortal.Sign(e.accts[signer].PrivateKey, []byte(c.Message))
	return map[string]string{"challengeId": c.ID, "publicKey": e.accts[pubOf].PublicKey58, "signature": p.Signature}
}

func expect(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status || r.code() != code {
		t.Fatalf("got %d %q (%v), want %d %q", r.status, r.code(), r.body, status, code)
	}
}

// The fake has no broker sessions: single sign-on is tested with the real
// provider (internal/server/sso_test.go).
func (p *fakeProvider) SignedIn(*http.Request) (store.BrokerSession, bool) {
	return store.BrokerSession{}, false
}
func (p *fakeProvider) SessionSatisfies(oidcprovider.AuthRequestInfo, store.BrokerSession) bool {
	return false
}
func (p *fakeProvider) CompleteBrowserLogin(_ http.ResponseWriter, r *http.Request, id string, m store.Mapping, t time.Time, rec ...oidcprovider.LoginRecord) (string, error) {
	return p.CompleteLogin(r.Context(), id, m, t, rec...)
}
func (p *fakeProvider) CompleteLoginFromSession(context.Context, string, store.Mapping, store.BrokerSession, ...oidcprovider.LoginRecord) (string, error) {
	return "", errors.New("fake provider: no broker sessions")
}
func (p *fakeProvider) OpenBrokerSession(http.ResponseWriter, *http.Request, string, time.Time) error {
	return nil // this fake has no broker sessions (internal/server tests them with the real provider)
}
func (p *fakeProvider) FailSilentLogin(_ context.Context, id, description string) (string, error) {
	return p.DenyLogin(context.Background(), id, description)
}
