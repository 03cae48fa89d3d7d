package oidcprovider

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// ncSecret holds the characters URL decoding would mangle: user_oidc sends
// it unencoded in Basic auth.
const (
	ncSecret   = "s3cr3t+with%2Bpercent%zz"
	ncRedirect = "https://cloud.example/apps/user_oidc/code"
	ncLogout   = "https://cloud.example/"
	spaRedir   = "https://app.example/cb"
)

var testKEK = []byte("0123456789abcdef0123456789abcdef")

var alice = store.Mapping{QortalAddress: "QaliceAddr1234567890", NextcloudUserID: "alice", DisplayName: "Alice A",
	Email: "alice@example.org", Status: store.StatusLinked}

func testConfig(issuer string) config.Config {
	cfg := config.Default()
	cfg.Issuer = issuer
	cfg.OIDC.SigningAlg = "ES256"
	cfg.OIDC.KeyEncryptionKey = testKEK
	cfg.OIDC.GroupsClaim = []string{"qortal", "staff"}
	cfg.OIDC.Clients = []config.Client{
		{ID: "nc", Name: "Nextcloud", Secret: ncSecret, RedirectURIs: []string{ncRedirect}, PostLogoutRedirectURIs: []string{ncLogout}},
		{ID: "spa", Name: "SPA", Public: true, RedirectURIs: []string{spaRedir}},
	}
	return cfg
}

type env struct {
	t      testing.TB
	p      *Provider
	srv    *httptest.Server
	issuer string
	st     store.Store
}

// newEnv starts a provider on loopback over st. mutate may adjust config.
func newEnv(t testing.TB, st store.Store, mutate func(*config.Config)) *env {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	cfg := testConfig(issuer)
	if mutate != nil {
		mutate(&cfg)
	}
	p, err := New(t.Context(), cfg, Deps{Store: st})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv.Config.Handler = p.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(p.bg.Wait)
	return &env{t: t, p: p, srv: srv, issuer: issuer, st: st}
}

// twoReplicas starts two providers for one issuer over one database of
// kind, alice linked; only the store connects them.
func twoReplicas(t *testing.T, kind storetest.Kind) (e1, e2 *env) {
	t.Helper()
	open := storetest.Shared(t, kind)
	st1, st2 := open(t), open(t)
	linkAlice(t, st1)
	e1 = newEnv(t, st1, nil)
	e2 = newEnv(t, st2, func(c *config.Config) { c.Issuer = e1.issuer })
	return e1, e2
}

func linkAlice(t testing.TB, st store.Store) {
	t.Helper()
	if _, err := st.CreateMapping(t.Context(), alice, store.AuditEntry{Actor: "admin:test"}); err != nil {
		t.Fatalf("CreateMapping: %v", err)
	}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}

func pkce() (verifier, challenge string) {
	verifier = strings.Repeat("v3rifier-", 15)[:128] // user_oidc sends 128 chars
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorize starts a login and returns the auth request id from the
// redirect to the login page (or fails with the response).
func (e *env) authorize(q url.Values) (string, *http.Response) {
	e.t.Helper()
	resp, err := noRedirect.Get(e.issuer + "/authorize?" + q.Encode())
	if err != nil {
		e.t.Fatalf("GET /authorize: %v", err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Path != "/login" {
		return "", resp
	}
	return loc.Query().Get("authRequestID"), resp
}

func ncAuthorize(challenge string) url.Values {
	q := url.Values{
		"client_id": {"nc"}, "redirect_uri": {ncRedirect}, "response_type": {"code"},
		"scope": {"openid email profile offline_access"}, "state": {"st4te"}, "nonce": {"n0nce"},
		// user_oidc always sends claims; it must be tolerated.
		"claims": {`{"id_token":{"email":{"essential":true}},"userinfo":{"name":null}}`},
	}
	if challenge != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
	}
	return q
}

// login completes the auth request as alice, which sends the browser
// straight to the RP redirect, and returns the code and the state.
func (e *env) login(p *Provider, id string) (code, state string) {
	e.t.Helper()
	next, err := p.CompleteLogin(e.t.Context(), id, alice, time.Now())
	if err != nil {
		e.t.Fatalf("CompleteLogin: %v", err)
	}
	loc, err := url.Parse(next)
	if err != nil || strings.HasPrefix(next, e.issuer) || loc.Query().Get("code") == "" {
		e.t.Fatalf("CompleteLogin sent the browser to %q, not to the RP with a code", next)
	}
	return loc.Query().Get("code"), loc.Query().Get("state")
}

type creds struct {
	id, secret string
	raw        bool // Basic auth without URL-encoding, as user_oidc sends it
}

// token posts to /token; basic nil means credentials (if any) are in form.
func (e *env) token(form url.Values, basic *creds) (int, map[string]any) {
	e.t.Helper()
	resp, body := e.postToken(form, basic)
	out := map[string]any{}
	_ = json.Unmarshal(body, &out)
	return resp.StatusCode, out
}

// postToken posts form to /token and returns the response with its body
// read.
func (e *env) postToken(form url.Values, basic *creds) (*http.Response, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic != nil {
		id, secret := basic.id, basic.secret
		if !basic.raw {
			id, secret = url.QueryEscape(id), url.QueryEscape(secret)
		}
		req.SetBasicAuth(id, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("POST /token: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func codeForm(code, verifier string) url.Values {
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {ncRedirect}}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	return f
}

// jwtClaims decodes a JWT's payload without verifying it (tests verify
// signatures separately).
func jwtClaims(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	out := map[string]any{}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("payload: %v", err)
	}
	return out
}
