package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

const (
	rpID       = "nextcloud"
	rpSecret   = "rp-secret-0123456789-0123456789-abcdef"
	rpRedirect = "https://cloud.example.org/index.php/apps/user_oidc/code"
)

// cluster is n broker replicas on one database behind a round-robin
// balancer, so consecutive requests of one login land on different replicas.
// Each replica opens its own store handle (its own pool), as separate
// processes would.
type cluster struct {
	issuer   string
	replicas []*Server
	admin    *broker // for provisioning calls
}

func newCluster(t *testing.T, open storetest.Opener, nc *ocsfake.Server, n int, alg string, mutate ...func(*config.Config)) *cluster {
	t.Helper()
	var next atomic.Uint64
	c := &cluster{}
	lb := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.replicas[next.Add(1)%uint64(len(c.replicas))].Handler().ServeHTTP(w, r)
	}))
	c.issuer = "http://" + lb.Listener.Addr().String()
	for i := 0; i < n; i++ {
		cfg := testConfig(nc.URL())
		cfg.Issuer = c.issuer
		cfg.OIDC.SigningAlg = alg
		cfg.OIDC.Clients = []config.Client{{ID: rpID, Name: "Nextcloud", Secret: rpSecret, RedirectURIs: []string{rpRedirect}}}
		for _, m := range mutate {
			m(&cfg)
		}
		for j, tok := range cfg.Admin.Tokens {
			cfg.Admin.Tokens[j] = config.HashAdminToken(tok)
		}
		st := open(t)
		srv, err := NewWithStore(context.Background(), cfg, slog.New(slog.DiscardHandler), st)
		if err != nil {
			t.Fatal(err)
		}
		c.replicas = append(c.replicas, srv)
	}
	lb.Start()
	t.Cleanup(lb.Close)
	c.admin = &broker{t: t, srv: c.replicas[0], http: lb, nc: nc, store: c.replicas[0].Store(), logs: &lockedBuffer{}}
	return c
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func postJSON(t *testing.T, u string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	res, err := http.Post(u, "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, out
}

// startLogin runs the relying party's authorize redirect and returns the
// auth request id the login page was opened with.
func (c *cluster) startLogin(t *testing.T, relying rp.RelyingParty, challenge, nonce string) string {
	t.Helper()
	authURL := rp.AuthURL("st4te", relying, rp.WithCodeChallenge(challenge), rp.AuthURLOpt(rp.WithURLParam("nonce", nonce)),
		// user_oidc always sends a claims parameter; it must be tolerated.
		rp.AuthURLOpt(rp.WithURLParam("claims", `{"id_token":{"email":null}}`)))
	res, err := noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || loc == nil || loc.Path != "/login" {
		t.Fatalf("authorize: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	return loc.Query().Get("authRequestID")
}

// signIn does what the login page does: challenge, sign, verify. It
// returns the verify answer.
func (c *cluster) signIn(t *testing.T, authRequestID string, acct qortaltest.Account) (int, map[string]any) {
	t.Helper()
	status, ch := postJSON(t, c.issuer+"/login/challenge", map[string]any{"authRequestId": authRequestID, "qortalAddress": acct.Address})
	if status != http.StatusOK {
		t.Fatalf("challenge: %d %v", status, ch)
	}
	p := qortal.Sign(acct.PrivateKey, []byte(ch["message"].(string)))
	return postJSON(t, c.issuer+"/login/verify", map[string]any{"challengeId": ch["challengeId"], "publicKey": p.PublicKey, "signature": p.Signature})
}

// follow fetches redirectTo and returns the code sent to the relying party.
func (c *cluster) follow(t *testing.T, redirectTo string) (code, state string) {
	t.Helper()
	// The proof's answer sends the browser straight to the RP with the code.
	loc, err := url.Parse(redirectTo)
	if err != nil || !strings.HasPrefix(redirectTo, rpRedirect+"?") {
		t.Fatalf("verify sent the browser to %q, not the RP", redirectTo)
	}
	return loc.Query().Get("code"), loc.Query().Get("state")
}

func pkcePair() (verifier, challenge string) {
	verifier = strings.Repeat("v3rifier-", 14) // user_oidc sends 128 characters
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestQortalLoginWithGoRelyingParty is the whole product path through
// every replica: provision, discovery, authorize, Qortal challenge signed
// with a real key, verify, code, token (ID token checked against the JWKS
// by zitadel's rp), userinfo and refresh.
func TestQortalLoginWithGoRelyingParty(t *testing.T) {
	accts := qortaltest.Accounts(t)
	alice, bob := accts["alice"], accts["bob"]
	for _, kind := range storetest.Kinds() {
		for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
			t.Run(string(kind)+"/"+alg, func(t *testing.T) {
				ctx := context.Background()
				nc := newFakeNextcloud(t)
				c := newCluster(t, storetest.Shared(t, kind), nc, 2, alg)
				if r := c.admin.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address, "nextcloudUserId": "alice", "displayName": "Alice", "email": "alice@example.org"}); r.Status != http.StatusCreated {
					t.Fatalf("provision: %d %s", r.Status, r.Raw)
				}
				// Refreshed ID tokens carry no nonce (OIDC Core 12.2); rp
				// only accepts RS256/ES256/PS256 unless told the algorithm.
				nonce := "n0nce"
				relying, err := rp.NewRelyingPartyOIDC(ctx, c.issuer, rpID, rpSecret, rpRedirect, []string{"openid", "email", "profile", "offline_access"},
					rp.WithVerifierOpts(rp.WithNonce(func(context.Context) string { return nonce }), rp.WithSupportedSigningAlgorithms(alg)))
				if err != nil {
					t.Fatal(err)
				}
				verifier, challenge := pkcePair()
				id := c.startLogin(t, relying, challenge, "n0nce")
				status, out := c.signIn(t, id, alice)
				if status != http.StatusOK || out["redirectTo"] == nil {
					t.Fatalf("verify: %d %v", status, out)
				}
				code, state := c.follow(t, out["redirectTo"].(string))
				if code == "" || state != "st4te" {
					t.Fatalf("code %q state %q", code, state)
				}

				if _, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, code, relying, rp.WithCodeVerifier(verifier+"x")); err == nil {
					t.Fatal("a wrong PKCE verifier was accepted")
				}
				tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, code, relying, rp.WithCodeVerifier(verifier))
				if err != nil {
					t.Fatalf("code exchange (ID token verified against the JWKS): %v", err)
				}
				claims := tokens.IDTokenClaims
				if claims.Subject != "alice" || claims.Claims["qortal_address"] != alice.Address || claims.Name != "Alice" ||
					claims.Email != "alice@example.org" || claims.Nonce != "n0nce" || claims.Claims["sid"] == nil {
					t.Fatalf("ID token claims: %+v", claims)
				}
				ui, err := rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, "Bearer", "alice", relying)
				if err != nil || ui.Subject != "alice" || ui.Claims["qortal_address"] != alice.Address {
					t.Fatalf("userinfo: %+v %v", ui, err)
				}
				nonce = ""
				refreshed, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, relying, tokens.RefreshToken, "", "")
				if err != nil || refreshed.RefreshToken == tokens.RefreshToken {
					t.Fatalf("refresh: %v", err)
				}
				// A replayed code is refused and revokes what it gave.
				if _, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, code, relying, rp.WithCodeVerifier(verifier)); err == nil {
					t.Fatal("a code was exchanged twice")
				}
				if _, err := rp.Userinfo[*oidc.UserInfo](ctx, refreshed.AccessToken, "Bearer", "alice", relying); err == nil {
					t.Fatal("an access token from a replayed code still works")
				}

				// The same address always yields the same sub.
				nonce = "n0nce"
				id = c.startLogin(t, relying, challenge, "n0nce")
				_, out = c.signIn(t, id, alice)
				code, _ = c.follow(t, out["redirectTo"].(string))
				again, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, code, relying, rp.WithCodeVerifier(verifier))
				if err != nil || again.IDTokenClaims.Subject != "alice" {
					t.Fatalf("second login: %v", err)
				}

				// An address with no mapping is refused and the RP gets access_denied.
				id = c.startLogin(t, relying, challenge, "n0nce")
				status, out = c.signIn(t, id, bob)
				if status != http.StatusForbidden || errCode(out) != "not_linked" {
					t.Fatalf("unlinked address: %d %v", status, out)
				}
			})
		}
	}
}

// Negative login cases that need the whole broker: the challenge must be
// bound to its address, auth request and moment.
func TestQortalLoginRejections(t *testing.T) {
	accts := qortaltest.Accounts(t)
	alice, bob := accts["alice"], accts["bob"]
	nc := newFakeNextcloud(t)
	c := newCluster(t, storetest.Shared(t, storetest.SQLite), nc, 2, "ES256")
	c.admin.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address})
	relying, err := rp.NewRelyingPartyOIDC(context.Background(), c.issuer, rpID, rpSecret, rpRedirect, []string{"openid"})
	if err != nil {
		t.Fatal(err)
	}
	_, challenge := pkcePair()
	id1 := c.startLogin(t, relying, challenge, "n")
	id2 := c.startLogin(t, relying, challenge, "n")

	_, ch := postJSON(t, c.issuer+"/login/challenge", map[string]any{"authRequestId": id1, "qortalAddress": alice.Address})
	msg := ch["message"].(string)
	good := qortal.Sign(alice.PrivateKey, []byte(msg))
	other := qortal.Sign(bob.PrivateKey, []byte(msg))
	verify := func(body map[string]any) (int, string) {
		s, out := postJSON(t, c.issuer+"/login/verify", body)
		return s, errCode(out)
	}
	if s, code := verify(map[string]any{"challengeId": ch["challengeId"], "publicKey": other.PublicKey, "signature": other.Signature}); s != 400 || code != "address_mismatch" {
		t.Errorf("another key: %d %s", s, code)
	}
	if s, code := verify(map[string]any{"challengeId": ch["challengeId"], "publicKey": good.PublicKey, "signature": other.Signature}); s != 400 || code != "bad_signature" {
		t.Errorf("signature from another key: %d %s", s, code)
	}
	if s, code := verify(map[string]any{"challengeId": ch["challengeId"], "authRequestId": id2, "publicKey": good.PublicKey, "signature": good.Signature}); s != 400 || code != "auth_request_mismatch" {
		t.Errorf("challenge of another auth request: %d %s", s, code)
	}
	if s, code := verify(map[string]any{"challengeId": ch["challengeId"], "publicKey": good.PublicKey, "signature": good.Signature}); s != 200 {
		t.Fatalf("the genuine proof after failed attempts: %d %s", s, code)
	}
	if s, code := verify(map[string]any{"challengeId": ch["challengeId"], "publicKey": good.PublicKey, "signature": good.Signature}); s != 409 || code != "challenge_used" {
		t.Errorf("replayed challenge: %d %s", s, code)
	}
	if s, code := verify(map[string]any{"challengeId": "nope", "publicKey": good.PublicKey, "signature": good.Signature}); s != 404 || code != "challenge_not_found" {
		t.Errorf("unknown challenge: %d %s", s, code)
	}
}

func errCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// /authorize writes a row per call and anyone can call it: it is limited
// per client IP, while the token endpoint (one Nextcloud server for all
// users) is not.
func TestAuthorizeIsRateLimitedPerIP(t *testing.T) {
	nc := newFakeNextcloud(t)
	c := newCluster(t, storetest.Shared(t, storetest.SQLite), nc, 1, "ES256")
	_, challenge := pkcePair()
	q := url.Values{"client_id": {rpID}, "redirect_uri": {rpRedirect}, "response_type": {"code"}, "scope": {"openid"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"s"}}
	limited := false
	for i := 0; i < 200 && !limited; i++ {
		res, err := noRedirect.Get(c.issuer + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		switch res.StatusCode {
		case http.StatusFound:
		case http.StatusTooManyRequests:
			limited = res.Header.Get("Retry-After") != "" && i >= 120
		default:
			t.Fatalf("authorize #%d: %d", i, res.StatusCode)
		}
	}
	if !limited {
		t.Fatal("200 authorize calls from one IP were never limited (default 120/min)")
	}
	// Token endpoint calls from the same IP still get a protocol answer, not 429.
	res, err := http.PostForm(c.issuer+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {rpID}, "client_secret": {rpSecret}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusTooManyRequests {
		t.Fatal("the token endpoint must not share the browser rate limit")
	}
}
