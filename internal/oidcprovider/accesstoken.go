package oidcprovider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Access tokens come in two formats (oidc.access_token_format):
//
//   - opaque (default): "id:subject" sealed with the token key. Only
//     the broker can read it, so every use goes through userinfo or
//     introspection, which check the stored token: revocation is immediate.
//   - jwt: an RFC 9068 JWT signed with the ID token key. A resource server
//     (user_oidc with --check-bearer) verifies it against the JWKS without
//     calling the broker, so it stays valid there until exp even after a
//     logout or block; userinfo and introspection still check the stored
//     token and refuse it at once.
//
// op can sign access tokens itself, but only with typ "JWT", which RFC 9068
// forbids (typ "at+jwt" is what keeps an access token from being taken for
// an ID token), and with neither scope nor sid. So the storage signs the
// token when it stores it and hands op the JWT where op expects the token
// id; accessTokenCrypto then passes it through where op would encrypt.

// typAccessToken is RFC 9068's media type for JWT access tokens.
const typAccessToken = "at+jwt"

// accessTokenValue is what the client receives for t: its id (op encrypts
// it) or the signed JWT.
func (s *storage) accessTokenValue(ctx context.Context, t store.AccessToken) (string, error) {
	if !s.p.jwtAccessTokens {
		return t.ID, nil
	}
	return s.p.signAccessToken(ctx, t)
}

// signAccessToken builds the RFC 9068 token: iss, sub, aud (the client,
// which is also the resource server), exp, iat, jti (the stored token id,
// so revocation finds it), client_id, scope, plus sid for back-channel
// logout matching.
func (p *Provider) signAccessToken(ctx context.Context, t store.AccessToken) (string, error) {
	key, err := p.keys.signingKey(ctx)
	if err != nil {
		return "", fmt.Errorf("access token key: %w", err)
	}
	aud := t.Audience
	if len(aud) == 0 {
		aud = []string{t.ClientID}
	}
	claims := map[string]any{
		"iss":       p.issuer,
		"sub":       t.Subject,
		"aud":       aud,
		"exp":       t.ExpiresAt.Unix(),
		"iat":       t.CreatedAt.Unix(),
		"jti":       t.ID,
		"client_id": t.ClientID,
		"scope":     strings.Join(t.Scopes, " "),
	}
	if t.SessionID != "" {
		claims["sid"] = t.SessionID
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("access token claims: %w", err)
	}
	return key.sign(typAccessToken, payload)
}

// accessTokenCrypto is the opaque tokens' crypto (tokenSeal), except that
// an access token the storage already signed is passed through unencrypted. op hands Encrypt
// "<id>:<subject>" for access tokens and the bare auth request id for
// codes; only a signed token starts with a JWS header and has two dots.
type accessTokenCrypto struct {
	op.Crypto
}

func (c accessTokenCrypto) Encrypt(s string) (string, error) {
	if tok, _, ok := strings.Cut(s, ":"); ok && isCompactJWS(tok) {
		return tok, nil
	}
	return c.Crypto.Encrypt(s)
}

// isCompactJWS: three base64url parts whose header is a JSON object
// ("eyJ" is the encoding of `{"`).
func isCompactJWS(s string) bool {
	return strings.HasPrefix(s, "eyJ") && strings.Count(s, ".") == 2
}
