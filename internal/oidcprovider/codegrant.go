package oidcprovider

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The authorization_code grant is every login's last request, and op's
// generic token pipeline spent a third of it outside the store: the ID
// token's claims were encoded, decoded into a map and encoded again (to
// merge four custom claims), the form decoded by reflection a second time,
// the request cloned for Basic credentials. codeGrant answers the common
// case itself with op's own building blocks (op.AuthorizeCodeChallenge,
// op.CreateAccessToken, oidc.NewIDTokenClaims; the JWS by signingKey.sign) and the
// same storage calls, in op's order. Anything else (other grants, JWT
// access tokens, client assertions, and every request that would fail a
// check) goes to op untouched before anything is written, so op keeps
// answering every error exactly as before; codegrant_test.go compares the
// two answers for the same logins.

// codeGrant serves /token's authorization_code grant when it can, and hands
// every other request to next (op, behind rawBasicAuth). It runs after
// clientAuthEndpoint, which has parsed the form and refused repeated
// parameters, query parameters and unknown clients.
func (p *Provider) codeGrant(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.jwtAccessTokens || p.opTokenEndpoint.Load() || r.PostForm.Get("grant_type") != string(oidc.GrantTypeCode) || !p.serveCodeGrant(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

// serveCodeGrant answers the request and reports true, or reports false
// having written nothing, to the response or the store, for op to answer.
func (p *Provider) serveCodeGrant(w http.ResponseWriter, r *http.Request) bool {
	ctx := r.Context()
	form := r.PostForm
	code := form.Get("code")
	if code == "" || form.Get("client_assertion") != "" || form.Get("client_assertion_type") != "" {
		return false
	}
	cl, ok := p.codeGrantClient(r)
	if !ok {
		return false
	}
	if !slices.Contains(cl.GrantTypes(), oidc.GrantTypeCode) {
		return false
	}
	// op reads the request by its code first (a replay is recognised
	// there and refused later, revoking): any answer but a completed
	// request of this client, redirect URI and verifier is op's to give.
	opReq, err := p.storage.AuthRequestByCode(ctx, code)
	if err != nil {
		return false
	}
	ar, ok := opReq.(*authRequest)
	// Declining after this read costs op a store read of its own (the
	// replica's copy of the completed request is taken once): only
	// failing requests pay it.
	if !ok || !ar.r.Done || ar.GetClientID() != cl.GetID() || form.Get("redirect_uri") != ar.GetRedirectURI() {
		return false
	}
	challenge := ar.GetCodeChallenge()
	if op.AuthorizeCodeChallenge(form.Get("code_verifier"), challenge) != nil || (cl.AuthMethod() == oidc.AuthMethodNone && challenge == nil) {
		return false
	}

	// From here on the code is being exchanged: errors are op's errors
	// for the same failures (op.RequestError answers them).
	accessToken, refreshToken, validity, err := op.CreateAccessToken(ctx, ar, cl.AccessTokenType(), p.op, cl, "")
	if err != nil {
		op.RequestError(w, r, err, p.logger)
		return true
	}
	idToken, err := p.idToken(r, ar, cl, accessToken, code)
	if err != nil {
		op.RequestError(w, r, err, p.logger)
		return true
	}
	if err := p.storage.DeleteAuthRequest(ctx, ar.GetID()); err != nil {
		op.RequestError(w, r, err, p.logger)
		return true
	}
	p.codeGrants.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(&oidc.AccessTokenResponse{
		AccessToken:  accessToken,
		IDToken:      idToken,
		RefreshToken: refreshToken,
		TokenType:    oidc.BearerToken,
		ExpiresIn:    uint64(validity.Seconds()),
		Scope:        ar.GetScopes(),
	})
	return true
}

// codeGrantClient authenticates the client the way rawBasicAuth and op
// together do: Basic credentials raw (user_oidc) or URL-encoded (RFC 6749),
// or client_id and client_secret in the form (client_secret_post), or a
// public client's bare client_id (which then needs PKCE). One method only:
// a request mixing them is op's to refuse.
func (p *Provider) codeGrantClient(r *http.Request) (*client, bool) {
	ctx := r.Context()
	form := r.PostForm
	id, secret, basic := r.BasicAuth()
	if basic {
		if form.Get("client_secret") != "" {
			return nil, false
		}
		cl, err := p.client(ctx, id)
		if err == nil && !cl.c.Public && secretMatches(cl.c.SecretHash, secret) {
			return cl, true
		}
		did, err1 := url.QueryUnescape(id)
		dsecret, err2 := url.QueryUnescape(secret)
		if err1 != nil || err2 != nil || (did == id && dsecret == secret) {
			return nil, false
		}
		if cl, err = p.client(ctx, did); err == nil && !cl.c.Public && secretMatches(cl.c.SecretHash, dsecret) {
			return cl, true
		}
		return nil, false
	}
	cl, err := p.client(ctx, form.Get("client_id"))
	if err != nil {
		return nil, false
	}
	if cl.c.Public {
		return cl, form.Get("client_secret") == ""
	}
	return cl, secretMatches(cl.c.SecretHash, form.Get("client_secret"))
}

// idToken is op.CreateIDToken for an auth request of this provider, with
// the claims encoded once (idTokenPayload) instead of op's encode, decode
// and encode again.
func (p *Provider) idToken(r *http.Request, ar *authRequest, cl *client, accessToken, code string) (string, error) {
	ctx := r.Context()
	exp := time.Now().UTC().Add(cl.ClockSkew()).Add(cl.IDTokenLifetime())
	claims := oidc.NewIDTokenClaims(p.issuer, ar.GetSubject(), ar.GetAudience(), exp, ar.GetAuthTime(), ar.GetNonce(),
		ar.GetACR(), ar.GetAMR(), ar.GetClientID(), cl.ClockSkew())
	scopes := cl.RestrictAdditionalIdTokenScopes()(ar.GetScopes())
	key, err := p.keys.signingKey(ctx)
	if err != nil {
		return "", err
	}
	if accessToken != "" {
		// op would drop the userinfo scopes here for a client that does
		// not want their claims in the ID token; every client of this
		// broker does (client.IDTokenUserinfoClaimsAssertion).
		if claims.AccessTokenHash, err = oidc.ClaimHash(accessToken, key.alg); err != nil {
			return "", err
		}
	}
	if len(scopes) > 0 {
		info := new(oidc.UserInfo)
		if err := p.storage.SetUserinfoFromRequest(ctx, info, ar, scopes); err != nil {
			return "", err
		}
		claims.SetUserInfo(info)
	}
	if code != "" {
		if claims.CodeHash, err = oidc.ClaimHash(code, key.alg); err != nil {
			return "", err
		}
	}
	payload, err := idTokenPayload(claims)
	if err != nil {
		return "", err
	}
	return key.sign("JWT", payload)
}

// idTokenClaimsJSON is oidc.IDTokenClaims without its MarshalJSON: the
// registered claims only.
type idTokenClaimsJSON oidc.IDTokenClaims

// idTokenPayload encodes claims as op's MarshalJSON does (the registered
// claims, the extra ones added, an extra claim replacing a registered one
// of its name) in one pass: the extras are appended to the registered
// claims' object. sid, which the storage hands over as an extra claim,
// goes into the field op has for it. An extra claim whose name the
// registered ones could emit is left to op's encoding.
func idTokenPayload(claims *oidc.IDTokenClaims) ([]byte, error) {
	extra := claims.Claims
	if sid, ok := extra["sid"].(string); ok && claims.SessionID == "" {
		c := *claims
		c.SessionID = sid
		c.Claims = make(map[string]any, len(extra)-1)
		for k, v := range extra {
			if k != "sid" {
				c.Claims[k] = v
			}
		}
		claims, extra = &c, c.Claims
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		if registeredIDTokenClaims()[k] {
			return json.Marshal(claims)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode((*idTokenClaimsJSON)(claims)); err != nil {
		return nil, err
	}
	out := bytes.TrimRight(buf.Bytes(), "\n")
	if len(keys) == 0 {
		return out, nil
	}
	if len(out) < 2 || out[len(out)-1] != '}' {
		return json.Marshal(claims)
	}
	out = out[:len(out)-1]
	for i, k := range keys {
		if i > 0 || len(out) > 1 {
			out = append(out, ',')
		}
		name, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		value, err := json.Marshal(extra[k])
		if err != nil {
			return nil, err
		}
		out = append(append(append(out, name...), ':'), value...)
	}
	return append(out, '}'), nil
}

// registeredIDTokenClaims is every JSON name oidc.IDTokenClaims can emit
// itself, from its struct tags (embedded structs included).
var registeredIDTokenClaims = sync.OnceValue(func() map[string]bool {
	names := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			if name == "" {
				name = f.Name
			}
			names[name] = true
		}
	}
	walk(reflect.TypeFor[oidc.IDTokenClaims]())
	return names
})
