package oidcprovider

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

func jwtAccessTokens(alg string) func(*config.Config) {
	return func(c *config.Config) {
		c.OIDC.AccessTokenFormat = config.AccessTokenJWT
		c.OIDC.SigningAlg = alg
	}
}

// verifyWithJWKS checks token the way a resource server does (user_oidc's
// --check-bearer: signature against the published JWKS, iss, aud, exp),
// with golang-jwt, a library independent of the one that signed it.
func (e *env) verifyWithJWKS(token, alg string) (jwt.MapClaims, error) {
	e.t.Helper()
	r := e.send("GET", "/jwks", nil, nil, nil)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(r.body), &set); err != nil {
		e.t.Fatalf("jwks: %v", err)
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		keys := set.Key(kid)
		if len(keys) != 1 {
			return nil, errors.New("kid not in the JWKS")
		}
		return keys[0].Key, nil
	}, jwt.WithValidMethods([]string{alg}), jwt.WithIssuer(e.issuer), jwt.WithAudience("nc"),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	return claims, err
}

// Issue 7 item 9: RFC 9068 access tokens, verifiable offline against the
// JWKS, while the broker's own endpoints still honour revocation.
func TestJWTAccessTokens(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			st := storetest.Open(t, storetest.SQLite)
			linkAlice(t, st)
			e := newEnv(t, st, jwtAccessTokens(alg))
			body := e.exchange()
			at := body["access_token"].(string)
			header := jwtHeader(t, at)
			if header["typ"] != "at+jwt" || header["kid"] == nil || header["alg"] != alg {
				t.Errorf("header = %v, want typ at+jwt, kid and alg %s", header, alg)
			}
			claims, err := e.verifyWithJWKS(at, alg)
			if err != nil {
				t.Fatalf("the access token does not verify against the JWKS: %v", err)
			}
			idClaims := jwtClaims(t, body["id_token"].(string))
			if claims["sub"] != "alice" || claims["client_id"] != "nc" || claims["scope"] != "openid email profile offline_access" ||
				claims["sid"] != idClaims["sid"] || claims["sid"] == nil || !strings.HasPrefix(claims["jti"].(string), accessPrefix) {
				t.Errorf("claims = %v", claims)
			}
			exp, _ := claims.GetExpirationTime()
			iat, _ := claims.GetIssuedAt()
			if exp == nil || iat == nil || exp.Sub(iat.Time) != 15*time.Minute {
				t.Errorf("exp %v iat %v: want the access token TTL between them", exp, iat)
			}
			if aud, _ := claims.GetAudience(); !slices.Equal(aud, jwt.ClaimStrings{"nc"}) {
				t.Errorf("aud = %v", aud)
			}
			// The ID token's at_hash covers the token as issued.
			if want, err := oidc.ClaimHash(at, jose.SignatureAlgorithm(alg)); err != nil || idClaims["at_hash"] != want {
				t.Errorf("ID token at_hash = %v, want %s (%v)", idClaims["at_hash"], want, err)
			}
			// The broker's endpoints accept it.
			bearer := map[string]string{"Authorization": "Bearer " + at}
			if r := e.send("GET", "/userinfo", nil, nil, bearer); r.status != http.StatusOK || r.json["sub"] != "alice" {
				t.Errorf("userinfo: %d %s", r.status, r.body)
			}
			intro := e.send("POST", "/introspect", url.Values{"token": {at}}, &[2]string{"nc", ncSecret}, nil)
			if intro.status != http.StatusOK || intro.json["active"] != true || intro.json["jti"] != claims["jti"] {
				t.Errorf("introspection: %d %s", intro.status, intro.body)
			}
			// A refreshed access token is a JWT too.
			refreshed := e.send("POST", "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}},
				&[2]string{"nc", ncSecret}, nil)
			if refreshed.status != http.StatusOK {
				t.Fatalf("refresh: %d %s", refreshed.status, refreshed.body)
			}
			if _, err := e.verifyWithJWKS(refreshed.json["access_token"].(string), alg); err != nil {
				t.Errorf("refreshed access token: %v", err)
			}
			// An ID token is not an access token, although it is signed by
			// the same key.
			if r := e.send("GET", "/userinfo", nil, nil, map[string]string{"Authorization": "Bearer " + body["id_token"].(string)}); r.status != http.StatusUnauthorized {
				t.Errorf("ID token accepted as access token: %d %s", r.status, r.body)
			}
		})
	}
}

// Revocation (logout, block, revoke) stops a JWT access token at the
// broker at once; a resource server verifying offline accepts it until
// exp, which is the documented trade-off.
func TestJWTAccessTokenRevocation(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			st := storetest.Open(t, kind)
			linkAlice(t, st)
			e := newEnv(t, st, jwtAccessTokens("ES256"))
			nc := &[2]string{"nc", ncSecret}
			dead := func(what, at string) {
				t.Helper()
				if r := e.send("GET", "/userinfo", nil, nil, map[string]string{"Authorization": "Bearer " + at}); r.status != http.StatusUnauthorized {
					t.Errorf("%s: userinfo %d %s", what, r.status, r.body)
				}
				if r := e.send("POST", "/introspect", url.Values{"token": {at}}, nc, nil); r.status != http.StatusOK || r.json["active"] != false {
					t.Errorf("%s: introspection %d %s", what, r.status, r.body)
				}
				if _, err := e.verifyWithJWKS(at, "ES256"); err != nil {
					t.Errorf("%s: offline verification should still pass until exp: %v", what, err)
				}
			}

			// Revocation endpoint.
			at := e.exchange()["access_token"].(string)
			if r := e.send("POST", "/revoke", url.Values{"token": {at}}, nc, nil); r.status != http.StatusOK {
				t.Fatalf("revoke: %d %s", r.status, r.body)
			}
			dead("revoked", at)

			// Logout from the relying party.
			body := e.exchange()
			at = body["access_token"].(string)
			r := e.send("GET", "/end_session?client_id=nc&post_logout_redirect_uri="+url.QueryEscape(ncLogout)+"&id_token_hint="+body["id_token"].(string), nil, nil, nil)
			if r.status != http.StatusFound {
				t.Fatalf("end_session: %d %s", r.status, r.body)
			}
			dead("after logout", at)

			// Block.
			at = e.exchange()["access_token"].(string)
			m, err := st.GetMappingByAddress(t.Context(), alice.QortalAddress)
			if err != nil {
				t.Fatal(err)
			}
			m.Status = store.StatusBlocked
			if _, err := st.UpdateMapping(t.Context(), m, store.AuditEntry{Actor: "admin:test"}); err != nil {
				t.Fatal(err)
			}
			dead("after block", at)
		})
	}
}

// The default stays opaque: nothing outside the broker can read it.
func TestAccessTokensOpaqueByDefault(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	linkAlice(t, st)
	e := newEnv(t, st, nil)
	at := e.exchange()["access_token"].(string)
	if !strings.HasPrefix(at, tokenSealPrefix) || strings.Contains(at, ".") {
		t.Fatalf("default access token %q: want a sealed token, not a JWT", at)
	}
	// Sealed: neither the token id nor the subject can be read from it.
	plain, err := e.p.crypto.Decrypt(at)
	if err != nil {
		t.Fatal(err)
	}
	id, sub, _ := strings.Cut(plain, ":")
	if sub == "" || strings.Contains(at, id) || strings.Contains(at, sub) {
		t.Errorf("token %q shows its contents %q", at, plain)
	}
}

func jwtHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	h, _, _ := strings.Cut(token, ".")
	return jwtClaims(t, "x."+h+".x")
}
