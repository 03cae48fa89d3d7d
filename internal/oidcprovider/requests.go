package oidcprovider

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// authRequest adapts a stored auth request to op.AuthRequest. codeHash is set
// when it was loaded by code, so token creation can redeem that code;
// replayed when that code was redeemed before (see replayedRequest).
// public is a pending sealed request's id (r.ID is then its store key).
type authRequest struct {
	r        store.AuthRequest
	codeHash string
	replayed bool
	public   string
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string {
	if a.public != "" {
		return a.public
	}
	return a.r.ID
}
func (a *authRequest) GetACR() string         { return "" }
func (a *authRequest) GetAMR() []string       { return a.r.AMR }
func (a *authRequest) GetAudience() []string  { return []string{a.r.ClientID} }
func (a *authRequest) GetAuthTime() time.Time { return a.r.AuthTime }
func (a *authRequest) GetClientID() string    { return a.r.ClientID }
func (a *authRequest) GetNonce() string       { return a.r.Nonce }
func (a *authRequest) GetRedirectURI() string { return a.r.RedirectURI }
func (a *authRequest) GetScopes() []string    { return a.r.Scopes }
func (a *authRequest) GetState() string       { return a.r.State }
func (a *authRequest) GetSubject() string     { return a.r.Subject }
func (a *authRequest) Done() bool             { return a.r.Done }
func (a *authRequest) GetResponseType() oidc.ResponseType {
	return oidc.ResponseType(a.r.ResponseType)
}
func (a *authRequest) GetResponseMode() oidc.ResponseMode {
	return oidc.ResponseMode(a.r.ResponseMode)
}
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.r.CodeChallenge, Method: oidc.CodeChallengeMethod(a.r.CodeChallengeMethod)}
}

// refreshRequest adapts a stored refresh token to op.RefreshTokenRequest.
type refreshRequest struct {
	t      store.RefreshToken
	scopes []string // narrowed by the client, or the token's scopes
	token  string   // the presented token value
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string                 { return r.t.AMR }
func (r *refreshRequest) GetAudience() []string            { return r.t.Audience }
func (r *refreshRequest) GetAuthTime() time.Time           { return r.t.AuthTime }
func (r *refreshRequest) GetClientID() string              { return r.t.ClientID }
func (r *refreshRequest) GetScopes() []string              { return r.scopes }
func (r *refreshRequest) GetSubject() string               { return r.t.Subject }
func (r *refreshRequest) SetCurrentScopes(scopes []string) { r.scopes = scopes }

// sessionOf returns the session id and Qortal address behind a token request.
func sessionOf(req any) (sid, address string) {
	switch r := req.(type) {
	case *authRequest:
		return r.r.SessionID, r.r.QortalAddress
	case *refreshRequest:
		return r.t.SessionID, r.t.QortalAddress
	}
	return "", ""
}
