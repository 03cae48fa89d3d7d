package login

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/oidcprovider"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

const (
	e2eClientID    = "rp"
	e2eSecret      = "rp-secret-0123456789abcdef0123456789"
	e2eRedirectURI = "https://rp.example/index.php/apps/user_oidc/code"
)

// broker is the login handler and the real OpenID Provider on one loopback
// server, mounted as the broker mounts them.
type broker struct {
	srv    *httptest.Server
	store  store.Store
	accts  map[string]qortaltest.Account
	client *http.Client // does not follow redirects
}

func startBroker(t testing.TB, st store.Store, alg string) *broker {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	cfg := config.Default()
	cfg.Issuer = "http://" + srv.Listener.Addr().String()
	cfg.OIDC.SigningAlg = alg
	cfg.OIDC.KeyEncryptionKey = make([]byte, 32)
	_, _ = rand.Read(cfg.OIDC.KeyEncryptionKey)
	cfg.OIDC.Clients = []config.Client{{ID: e2eClientID, Name: "Test Cloud", Secret: e2eSecret, RedirectURIs: []string{e2eRedirectURI}}}
	cfg.Login.RateLimit.PerIPPerMinute = 1 << 30
	cfg.Login.RateLimit.PerAddressPerMinute = 1 << 30

	log := slog.New(slog.DiscardHandler)
	p, err := oidcprovider.New(context.Background(), cfg, oidcprovider.Deps{Store: st, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(cfg, Deps{Store: st, Provider: p, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	h.Register(r)
	r.PathPrefix("/").Handler(p.Handler())
	srv.Config.Handler = r
	srv.Start()
	t.Cleanup(srv.Close)
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &broker{srv: srv, store: st, accts: qortaltest.Accounts(t), client: c}
}

func (b *broker) link(t testing.TB, acct, user string, status store.MappingStatus) {
	t.Helper()
	addr := b.accts[acct].Address
	_, err := b.store.CreateMapping(context.Background(), store.Mapping{QortalAddress: addr, NextcloudUserID: user, Status: status},
		store.AuditEntry{Actor: "test", Action: "mapping.create", Subject: addr, Detail: "{}"})
	if err != nil {
		t.Fatal(err)
	}
}

// authorize starts a code+PKCE flow and returns the auth request id.
func (b *broker) authorize(t testing.TB, state, verifier string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id": {e2eClientID}, "redirect_uri": {e2eRedirectURI}, "response_type": {"code"},
		"scope": {"openid profile email"}, "state": {state}, "nonce": {"n-" + state},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	res, err := b.client.Get(b.srv.URL + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound || loc.Path != "/login" {
		t.Fatalf("authorize: %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	return loc.Query().Get("authRequestID")
}

func (b *broker) postJSON(t testing.TB, path string, body any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	res, err := b.client.Post(b.srv.URL+path, "application/json", strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := map[string]any{}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("%s: %d: %v", path, res.StatusCode, err)
	}
	return res.StatusCode, out
}

// signIn runs challenge and verify for acct and returns the verify answer.
func (b *broker) signIn(t testing.TB, authRequestID, acct string) (int, map[string]any) {
	t.Helper()
	a := b.accts[acct]
	st, ch := b.postJSON(t, "/login/challenge", map[string]string{"authRequestId": authRequestID, "qortalAddress": a.Address})
	if st != http.StatusOK {
		t.Fatalf("challenge: %d %v", st, ch)
	}
	p := qortal.Sign(a.PrivateKey, []byte(ch["message"].(string)))
	return b.postJSON(t, "/login/verify", map[string]string{
		"challengeId": ch["challengeId"].(string), "authRequestId": authRequestID, "publicKey": p.PublicKey, "signature": p.Signature,
	})
}

// follow GETs a broker URL and returns where it redirects.
func (b *broker) follow(t testing.TB, to string) *url.URL {
	t.Helper()
	u, err := url.Parse(to)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(to, e2eRedirectURI+"?") {
		return u // already at the relying party: nothing of the broker's to follow
	}
	res, err := b.client.Get(b.srv.URL + u.RequestURI())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode/100 != 3 {
		t.Fatalf("GET %s: %d Location %q", to, res.StatusCode, res.Header.Get("Location"))
	}
	return loc
}

// token redeems a code and returns the verified ID token's claims.
func (b *broker) token(t testing.TB, code, verifier string) map[string]any {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e2eRedirectURI}, "code_verifier": {verifier}}
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e2eClientID, e2eSecret)
	res, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var tok struct {
		IDToken string `json:"id_token"`
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &tok) != nil || tok.IDToken == "" {
		t.Fatalf("token: %d %s", res.StatusCode, raw)
	}
	return b.verifyIDToken(t, tok.IDToken)
}

func (b *broker) verifyIDToken(t testing.TB, raw string) map[string]any {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatalf("id token: %v", err)
	}
	res, err := b.client.Get(b.srv.URL + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) == 0 {
		t.Fatalf("id token kid %q not in the JWKS", jws.Signatures[0].Header.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("id token signature: %v", err)
	}
	claims := map[string]any{}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// fullLogin is one whole login: authorize, challenge, verify (which sends
// the browser to the RP with the code), token.
func (b *broker) fullLogin(t testing.TB, n int) map[string]any {
	t.Helper()
	state, verifier := fmt.Sprintf("state-%d", n), fmt.Sprintf("verifier-%d-%s", n, strings.Repeat("v", 43))
	id := b.authorize(t, state, verifier)
	st, v := b.signIn(t, id, "alice")
	if st != http.StatusOK {
		t.Fatalf("verify: %d %v", st, v)
	}
	cb := b.follow(t, v["redirectTo"].(string))
	if cb.Query().Get("state") != state || cb.Query().Get("code") == "" {
		t.Fatalf("callback %s", cb)
	}
	return b.token(t, cb.Query().Get("code"), verifier)
}

func TestEndToEndWithRealProvider(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			b := startBroker(t, storetest.Open(t, storetest.SQLite), alg)
			b.link(t, "alice", "alice-nc", store.StatusLinked)
			claims := b.fullLogin(t, 1)
			if claims["sub"] != "alice-nc" || claims["aud"] == nil || claims["nonce"] != "n-state-1" || claims["iss"] != b.srv.URL {
				t.Fatalf("claims %v", claims)
			}
		})
	}
}

func TestEndToEndDeniedReturnsAccessDenied(t *testing.T) {
	b := startBroker(t, storetest.Open(t, storetest.SQLite), "ES256")
	b.link(t, "chloe", "chloe-nc", store.StatusBlocked)
	for _, tc := range []struct{ acct, code string }{{"bob", "not_linked"}, {"chloe", "blocked"}} {
		id := b.authorize(t, "s-"+tc.acct, strings.Repeat("x", 50))
		st, v := b.signIn(t, id, tc.acct)
		if st != http.StatusForbidden || v["error"].(map[string]any)["code"] != tc.code {
			t.Fatalf("%s: %d %v", tc.acct, st, v)
		}
		res, err := b.client.PostForm(b.srv.URL+"/login/denied", url.Values{"authRequestID": {id}, "reason": {tc.code}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, _ := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), e2eRedirectURI) ||
			loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "s-"+tc.acct {
			t.Fatalf("%s deny: %d %s", tc.acct, res.StatusCode, loc)
		}
		// The auth request is over: the login page says so.
		res, err = b.client.Get(b.srv.URL + "/login?authRequestID=" + url.QueryEscape(id))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusGone {
			t.Fatalf("%s: login page after deny: %d", tc.acct, res.StatusCode)
		}
	}
}

func TestEndToEndAuthRequestCompletesOnce(t *testing.T) {
	b := startBroker(t, storetest.Open(t, storetest.SQLite), "EdDSA")
	b.link(t, "alice", "alice-nc", store.StatusLinked)
	id := b.authorize(t, "s", strings.Repeat("y", 50))
	if st, v := b.signIn(t, id, "alice"); st != http.StatusOK {
		t.Fatalf("first: %d %v", st, v)
	}
	// A second challenge for the completed request is refused.
	st, v := b.postJSON(t, "/login/challenge", map[string]string{"authRequestId": id, "qortalAddress": b.accts["alice"].Address})
	if st != http.StatusGone || v["error"].(map[string]any)["code"] != "auth_request_expired" {
		t.Fatalf("second challenge: %d %v", st, v)
	}
}
