package oidcprovider

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"

	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

func TestEndToEnd(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			st := storetest.Open(t, kind)
			linkAlice(t, st)
			e := newEnv(t, st, nil)
			ctx := t.Context()

			// Discovery, as user_oidc reads it.
			resp, err := http.Get(e.issuer + "/.well-known/openid-configuration")
			if err != nil {
				t.Fatal(err)
			}
			var d oidc.DiscoveryConfiguration
			if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if d.Issuer != e.issuer || d.TokenEndpoint != e.issuer+"/token" || d.AuthorizationEndpoint != e.issuer+"/authorize" ||
				d.JwksURI != e.issuer+"/jwks" || d.UserinfoEndpoint != e.issuer+"/userinfo" || d.EndSessionEndpoint != e.issuer+"/end_session" ||
				d.RevocationEndpoint != e.issuer+"/revoke" || d.IntrospectionEndpoint != e.issuer+"/introspect" {
				t.Errorf("discovery endpoints = %+v", d)
			}
			if !slices.Equal(d.CodeChallengeMethodsSupported, []oidc.CodeChallengeMethod{"S256"}) ||
				!slices.Contains(d.TokenEndpointAuthMethodsSupported, oidc.AuthMethodBasic) ||
				!slices.Contains(d.TokenEndpointAuthMethodsSupported, oidc.AuthMethodPost) ||
				!slices.Equal(d.ResponseTypesSupported, []string{"code"}) || !slices.Equal(d.SubjectTypesSupported, []string{"public"}) ||
				!slices.Equal(d.IDTokenSigningAlgValuesSupported, []string{"ES256"}) || !d.BackChannelLogoutSupported {
				t.Errorf("discovery capabilities = %+v", d)
			}

			verifier, challenge := pkce()
			id, r := e.authorize(ncAuthorize(challenge))
			if id == "" {
				t.Fatalf("authorize answered %d %s", r.StatusCode, r.Header.Get("Location"))
			}
			info, err := e.p.AuthRequest(ctx, id)
			if err != nil || info.ClientID != "nc" || info.ClientName != "Nextcloud" || info.RedirectURI != ncRedirect || info.Done {
				t.Errorf("AuthRequest = %+v, %v", info, err)
			}
			code, state := e.login(e.p, id)
			if code == "" || state != "st4te" {
				t.Fatalf("callback gave code %q state %q", code, state)
			}

			// Refreshed ID tokens carry no nonce (OIDC Core 12.2).
			nonce := "n0nce"
			relying, err := rp.NewRelyingPartyOIDC(ctx, e.issuer, "nc", ncSecret, ncRedirect, []string{"openid", "email", "profile", "offline_access"},
				rp.WithVerifierOpts(rp.WithNonce(func(context.Context) string { return nonce })))
			if err != nil {
				t.Fatalf("NewRelyingPartyOIDC: %v", err)
			}
			tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, code, relying, rp.WithCodeVerifier(verifier))
			if err != nil {
				t.Fatalf("CodeExchange (verifies the ID token against the JWKS): %v", err)
			}
			c := tokens.IDTokenClaims
			if c.Subject != "alice" || c.PreferredUsername != "alice" || c.Name != "Alice A" || c.Email != alice.Email ||
				bool(c.EmailVerified) || c.Nonce != "n0nce" || c.AuthorizedParty != "nc" || !slices.Equal(c.Audience, []string{"nc"}) {
				t.Errorf("ID token claims = %+v", c)
			}
			if c.Claims[ClaimQortalAddress] != alice.QortalAddress || c.Claims["sid"] == "" || c.Claims["sid"] == nil {
				t.Errorf("ID token extra claims = %v", c.Claims)
			}
			if g, _ := c.Claims[ClaimGroups].([]any); len(g) != 2 || g[0] != "qortal" || g[1] != "staff" {
				t.Errorf("groups = %v", c.Claims[ClaimGroups])
			}
			if tokens.RefreshToken == "" {
				t.Fatal("no refresh token for offline_access")
			}

			ui, err := rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, "Bearer", "alice", relying)
			if err != nil || ui.Subject != "alice" || ui.Name != "Alice A" || ui.Email != alice.Email || ui.Claims[ClaimQortalAddress] != alice.QortalAddress {
				t.Errorf("userinfo = %+v, %v", ui, err)
			}

			nonce = ""
			refreshed, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, relying, tokens.RefreshToken, "", "")
			if err != nil {
				t.Fatalf("RefreshTokens: %v", err)
			}
			if refreshed.RefreshToken == "" || refreshed.RefreshToken == tokens.RefreshToken || refreshed.IDTokenClaims.Subject != "alice" {
				t.Errorf("refresh did not rotate: %+v", refreshed)
			}
			// Reusing the rotated token fails and revokes the family: the
			// fresh token and its access token die too.
			if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, relying, tokens.RefreshToken, "", ""); err == nil {
				t.Error("reused refresh token accepted")
			}
			if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, relying, refreshed.RefreshToken, "", ""); err == nil {
				t.Error("refresh token of a revoked family accepted")
			}
			if _, err := rp.Userinfo[*oidc.UserInfo](ctx, refreshed.AccessToken, "Bearer", "alice", relying); err == nil {
				t.Error("access token of a revoked family accepted by userinfo")
			}
		})
	}
}

func TestTokenEndpointRejections(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			st := storetest.Open(t, kind)
			linkAlice(t, st)
			e := newEnv(t, st, nil)
			verifier, challenge := pkce()
			good := &creds{id: "nc", secret: ncSecret, raw: true}

			fresh := func() string {
				id, r := e.authorize(ncAuthorize(challenge))
				if id == "" {
					t.Fatalf("authorize: %d", r.StatusCode)
				}
				code, _ := e.login(e.p, id)
				return code
			}
			wantStatus := func(what string, status int, body map[string]any, want int, wantErr string) {
				t.Helper()
				if status != want || (wantErr != "" && body["error"] != wantErr) {
					t.Errorf("%s: %d %v, want %d %s", what, status, body, want, wantErr)
				}
			}

			code := fresh()
			st1, body := e.token(codeForm(code, "wrong-"+verifier[6:]), good)
			wantStatus("wrong PKCE verifier", st1, body, 400, "invalid_grant")
			st1, body = e.token(codeForm(code, ""), good)
			wantStatus("missing PKCE verifier", st1, body, 400, "invalid_request")
			f := codeForm(code, verifier)
			f.Set("redirect_uri", ncRedirect+"x")
			st1, body = e.token(f, good)
			wantStatus("mismatched redirect uri", st1, body, 400, "invalid_grant")
			st1, body = e.token(codeForm(code, verifier), &creds{id: "nc", secret: "nope", raw: true})
			wantStatus("bad client secret", st1, body, 401, "invalid_client")
			st1, body = e.token(codeForm(code, verifier), &creds{id: "ghost", secret: ncSecret, raw: true})
			wantStatus("unknown client", st1, body, 401, "invalid_client")
			// None of the failures above burnt the code.
			st1, body = e.token(codeForm(code, verifier), good)
			wantStatus("basic auth with the raw secret", st1, body, 200, "")
			if body["id_token"] == nil {
				t.Errorf("no id_token in %v", body)
			}
			st1, body = e.token(codeForm(code, verifier), good)
			wantStatus("reused code", st1, body, 400, "invalid_grant")

			// Every confidential client accepts both methods, and basic auth
			// with properly encoded credentials as well.
			for name, exchange := range map[string]func(code string) (int, map[string]any){
				"basic-encoded": func(c string) (int, map[string]any) {
					return e.token(codeForm(c, verifier), &creds{id: "nc", secret: ncSecret})
				},
				"post": func(c string) (int, map[string]any) {
					f := codeForm(c, verifier)
					f.Set("client_id", "nc")
					f.Set("client_secret", ncSecret)
					return e.token(f, nil)
				},
			} {
				st1, body := exchange(fresh())
				wantStatus(name, st1, body, 200, "")
			}

			// Public client: PKCE required at /authorize, none auth at /token.
			q := url.Values{"client_id": {"spa"}, "redirect_uri": {spaRedir}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"}}
			if id, r := e.authorize(q); id != "" || r.StatusCode != http.StatusFound {
				t.Errorf("public client without PKCE: login id %q status %d", id, r.StatusCode)
			} else if loc, _ := url.Parse(r.Header.Get("Location")); loc.Query().Get("error") != "invalid_request" {
				t.Errorf("public client without PKCE redirected to %s", loc)
			}
			q.Set("code_challenge", challenge)
			q.Set("code_challenge_method", "plain")
			if id, _ := e.authorize(q); id != "" {
				t.Error("plain PKCE accepted")
			}
			q.Set("code_challenge_method", "S256")
			id, _ := e.authorize(q)
			code, _ = e.login(e.p, id)
			st1, body = e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {spaRedir},
				"client_id": {"spa"}, "code_verifier": {verifier}}, nil)
			wantStatus("public client with PKCE", st1, body, 200, "")

			// Unknown client and unregistered redirect: no redirect at all.
			for name, q := range map[string]url.Values{
				"unknown client":        {"client_id": {"ghost"}, "redirect_uri": {ncRedirect}, "response_type": {"code"}, "scope": {"openid"}},
				"unregistered redirect": {"client_id": {"nc"}, "redirect_uri": {"https://evil.example/cb"}, "response_type": {"code"}, "scope": {"openid"}},
			} {
				if _, r := e.authorize(q); r.StatusCode != http.StatusBadRequest || r.Header.Get("Location") != "" {
					t.Errorf("%s: %d %q, want 400 without redirect", name, r.StatusCode, r.Header.Get("Location"))
				}
			}
		})
	}
}

// TestLoginAcrossReplicas: the login starts on one provider and ends on
// another; only the shared database connects them.
func TestLoginAcrossReplicas(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			e1, e2 := twoReplicas(t, kind)
			verifier, challenge := pkce()
			id, _ := e1.authorize(ncAuthorize(challenge))
			code, _ := e1.login(e2.p, id) // CompleteLogin on replica 2, callback on replica 1
			e2srv := &env{t: t, p: e2.p, issuer: e2.srv.URL, st: e2.st}
			status, body := e2srv.token(codeForm(code, verifier), &creds{id: "nc", secret: ncSecret, raw: true})
			if status != 200 || body["id_token"] == nil {
				t.Fatalf("token on replica 2: %d %v", status, body)
			}
			if iss := jwtClaims(t, body["id_token"].(string))["iss"]; iss != e1.issuer {
				t.Errorf("iss = %v, want %s", iss, e1.issuer)
			}
			// The refresh token from replica 2 is reused on replica 1.
			rt := body["refresh_token"].(string)
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
			if s, b := e1.token(form, &creds{id: "nc", secret: ncSecret}); s != 200 {
				t.Fatalf("refresh on replica 1: %d %v", s, b)
			}
			if s, _ := e2srv.token(form, &creds{id: "nc", secret: ncSecret}); s != 400 {
				t.Errorf("reuse on replica 2 answered %d, want 400", s)
			}
		})
	}
}

func TestDenyLogin(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	e := newEnv(t, st, nil)
	_, challenge := pkce()
	id, _ := e.authorize(ncAuthorize(challenge))
	to, err := e.p.DenyLogin(t.Context(), id, "signature rejected")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(to)
	if u.Host != "cloud.example" || u.Query().Get("error") != "access_denied" || u.Query().Get("state") != "st4te" ||
		u.Query().Get("error_description") != "signature rejected" {
		t.Errorf("DenyLogin redirect = %s", to)
	}
	if _, err := e.p.AuthRequest(t.Context(), id); err == nil {
		t.Error("denied auth request still exists")
	}
	if _, err := e.p.CompleteLogin(t.Context(), id, alice, time.Now()); err == nil {
		t.Error("CompleteLogin after DenyLogin succeeded")
	}
}
