package oidcprovider

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

func TestLogoutWithBackchannel(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			tokens := make(chan string, 4)
			rpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/apps/user_oidc/backchannel-logout/qortal" {
					http.Error(w, "wrong endpoint", 404)
					return
				}
				_ = r.ParseForm()
				tokens <- r.PostForm.Get("logout_token")
			}))
			defer rpSrv.Close()
			st := storetest.Open(t, kind)
			linkAlice(t, st)
			e := newEnv(t, st, func(c *config.Config) {
				c.OIDC.Clients[0].BackchannelLogoutURI = rpSrv.URL + "/apps/user_oidc/backchannel-logout/qortal"
			})
			signIn := func() map[string]any {
				verifier, challenge := pkce()
				id, _ := e.authorize(ncAuthorize(challenge))
				code, _ := e.login(e.p, id)
				status, body := e.token(codeForm(code, verifier), &creds{id: "nc", secret: ncSecret, raw: true})
				if status != 200 {
					t.Fatalf("token: %d %v", status, body)
				}
				return body
			}
			body := signIn()
			other := signIn() // a second session of alice at nc (another browser)
			idToken := body["id_token"].(string)
			otherSID := jwtClaims(t, other["id_token"].(string))["sid"]

			// user_oidc appends the query without encoding. It deletes its own
			// session first, so a logout token for this session would only
			// get HTTP 400 (and a WARN here): none is sent for it (issue 7 item 10).
			raw := e.issuer + "/end_session?post_logout_redirect_uri=" + ncLogout + "&client_id=nc&id_token_hint=" + idToken
			resp, err := noRedirect.Get(raw)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != ncLogout {
				t.Fatalf("end_session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			select {
			case <-tokens:
				t.Fatal("a back-channel logout was sent for the session the relying party itself ended")
			case <-time.After(300 * time.Millisecond):
			}
			// The session's tokens are gone all the same.
			if s, _ := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}},
				&creds{id: "nc", secret: ncSecret}); s != 400 {
				t.Errorf("refresh after logout answered %d", s)
			}

			// A session the relying party is not ending itself (here: signed
			// out everywhere, as block does) gets the back-channel call.
			if n, err := e.p.EndSessionsForAddress(t.Context(), alice.QortalAddress, "test"); err != nil || n != 1 {
				t.Fatalf("EndSessionsForAddress = %d, %v; want the other session", n, err)
			}
			sid := otherSID
			body = other
			var lt string
			select {
			case lt = <-tokens:
			case <-time.After(10 * time.Second):
				t.Fatal("no back-channel logout received")
			}
			jws, err := jose.ParseSigned(lt, []jose.SignatureAlgorithm{jose.ES256})
			if err != nil {
				t.Fatalf("logout token: %v", err)
			}
			if typ, _ := jws.Signatures[0].Header.ExtraHeaders["typ"].(string); typ != "logout+jwt" {
				t.Errorf("typ = %q", typ)
			}
			keys, _ := e.p.keys.publicKeys(t.Context())
			verified := false
			for _, k := range keys {
				if k.ID() == jws.Signatures[0].Header.KeyID {
					_, err := jws.Verify(k.Key())
					verified = err == nil
				}
			}
			if !verified {
				t.Fatal("logout token does not verify against the JWKS")
			}
			c := jwtClaims(t, lt)
			events, _ := c["events"].(map[string]any)
			if c["iss"] != e.issuer || c["aud"] != "nc" || c["sub"] != "alice" || c["sid"] != sid || c["jti"] == nil ||
				c["iat"] == nil || c["exp"] == nil || events == nil || events[BackchannelLogoutEvent] == nil {
				t.Errorf("logout token claims = %v", c)
			}
			if _, has := c["nonce"]; has {
				t.Error("logout token has a nonce")
			}
			// The session's tokens are gone.
			if s, _ := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}},
				&creds{id: "nc", secret: ncSecret}); s != 400 {
				t.Errorf("refresh after logout answered %d", s)
			}
			// Nextcloud's own server-side call after the session ended: no
			// back-channel message, redirect to the broker's page.
			resp, err = noRedirect.Get(e.issuer + "/end_session?id_token_hint=" + idToken)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != e.issuer+loggedOutPath {
				t.Errorf("second end_session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			select {
			case <-tokens:
				t.Error("a second back-channel logout was sent for an ended session")
			case <-time.After(300 * time.Millisecond):
			}
		})
	}
}

func TestEndSessionValidation(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	e := newEnv(t, st, nil)
	get := func(raw string) *http.Response {
		resp, err := noRedirect.Get(raw)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if r := get(e.issuer + "/end_session?post_logout_redirect_uri=https://evil.example/&client_id=nc"); r.StatusCode == http.StatusFound {
		t.Errorf("unregistered post_logout_redirect_uri redirected to %q", r.Header.Get("Location"))
	}
	// A hint signed by a key the broker never had is dropped, not fatal.
	forged := "eyJhbGciOiJFUzI1NiIsImtpZCI6Im5vcGUifQ.eyJzdWIiOiJhbGljZSJ9.c2ln"
	r := get(e.issuer + "/end_session?post_logout_redirect_uri=" + ncLogout + "&client_id=nc&id_token_hint=" + forged)
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != ncLogout {
		t.Errorf("unverifiable hint: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := get(e.issuer + loggedOutPath); r.StatusCode != 200 {
		t.Errorf("logged-out page: %d", r.StatusCode)
	}
}
