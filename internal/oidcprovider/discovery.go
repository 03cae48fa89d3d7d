package oidcprovider

import (
	"net/http"

	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// supportedClaims is what the ID token and userinfo can carry.
var supportedClaims = []string{
	"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "azp", "at_hash", "c_hash", "sid",
	"preferred_username", "name", "email", "email_verified", ClaimGroups, ClaimQortalAddress,
}

// discoveryHandler serves the discovery document op builds, trimmed to what
// the broker actually does: op's defaults advertise implicit and JWT-profile
// grants, device flow and more, which every client here would be refused.
func (p *Provider) discoveryHandler(w http.ResponseWriter, r *http.Request) {
	ctx := op.ContextWithIssuer(r.Context(), p.issuer)
	d := op.CreateDiscoveryConfig(ctx, p.op, p.storage)
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	d.ResponseModesSupported = []string{string(oidc.ResponseModeQuery), string(oidc.ResponseModeFormPost)}
	d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	d.SubjectTypesSupported = []string{"public"}
	d.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	d.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	d.TokenEndpointAuthSigningAlgValuesSupported = nil
	d.RevocationEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	d.RevocationEndpointAuthSigningAlgValuesSupported = nil
	d.IntrospectionEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic}
	d.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	d.DeviceAuthorizationEndpoint = ""
	d.CheckSessionIframe = ""
	d.RequestParameterSupported = false
	d.RequestObjectSigningAlgValuesSupported = nil
	d.ScopesSupported = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess, ScopeGroups}
	d.ClaimsSupported = supportedClaims
	d.BackChannelLogoutSupported = true
	d.BackChannelLogoutSessionSupported = true
	d.RequestURIParameterSupported = false
	w.Header().Set("Cache-Control", "public, max-age=300")
	httphelper.MarshalJSON(w, discoveryDocument{d, true})
}

// discoveryDocument adds what op's struct lacks: RFC 9207's flag that
// every authorization response carries iss (authorize.go), which tells
// clients to insist on it.
type discoveryDocument struct {
	*oidc.DiscoveryConfiguration
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
}
