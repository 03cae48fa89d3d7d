package oidcprovider

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// A pending auth request is sealed into its id rather than stored: the id
// carries the request's parameters under AES-256-GCM with a key every
// replica derives from the key encryption key, so /authorize writes
// nothing and any replica can open the id. The request reaches the store
// once, completed (or ended), under a short key derived from the id
// (requestKey): the completing INSERT is what makes a request single-use
// across replicas, as the UPDATE ... WHERE NOT done of a stored request is.
// Nothing can be forged or changed (the seal is authenticated), a sealed id
// carries its own expiry, and its row stays until that expiry (the purge
// goes by the same time), so an id cannot be completed twice.
//
// Requests whose sealed id would be long (a big state, nonce or login
// hint) are stored at /authorize as before ("ar_" ids).

const (
	sealedRequestPrefix = "ars1_"
	// maxSealedRequestLen bounds sealed ids: a login URL and a sealed
	// challenge carry one. Typical ones (user_oidc) are about 450 bytes.
	maxSealedRequestLen = 1024
)

// sealedRequest is what a sealed id carries (short names: it travels in
// URLs).
type sealedRequest struct {
	ClientID            string   `json:"c"`
	RedirectURI         string   `json:"r"`
	Scopes              []string `json:"s,omitempty"`
	State               string   `json:"st,omitempty"`
	Nonce               string   `json:"n,omitempty"`
	ResponseType        string   `json:"t"`
	ResponseMode        string   `json:"m,omitempty"`
	CodeChallenge       string   `json:"cc,omitempty"`
	CodeChallengeMethod string   `json:"cm,omitempty"`
	Prompt              []string `json:"p,omitempty"`
	MaxAge              *int64   `json:"a,omitempty"`
	LoginHint           string   `json:"h,omitempty"`
	CreatedAt           int64    `json:"i"` // Unix microseconds
	ExpiresAt           int64    `json:"e"`
}

// RequestKey is requestKey for the login handler, whose challenge records
// name their auth request as the store does.
func RequestKey(id string) string { return requestKey(id) }

// isSealedRequest reports whether id is a sealed request's id.
func isSealedRequest(id string) bool { return strings.HasPrefix(id, sealedRequestPrefix) }

// requestKey is the store's id for the request an id stands for: a sealed
// id's digest (the id itself is too long to key rows and indexes by), or
// the id of a stored request.
func requestKey(id string) string {
	if !isSealedRequest(id) {
		return id
	}
	h := sha256.New()
	io.WriteString(h, "qortal-oidc auth request key\x00")
	io.WriteString(h, id)
	var sum [sha256.Size]byte
	return "ar_" + base64.RawURLEncoding.EncodeToString(h.Sum(sum[:0])[:24])
}

// newRequestSealer seals auth requests for issuer: a request sealed by a
// broker with the same key but another issuer does not open here.
func newRequestSealer(key []byte, issuer string) (sealer, error) {
	return newSealer(key, sealedRequestPrefix, []byte("qortal-oidc auth request\x00"+issuer))
}

// sealRequest returns the sealed id of pending request ar, or false when
// it would be too long (then the request is stored).
func (p *Provider) sealRequest(ar store.AuthRequest) (string, bool) {
	raw, err := json.Marshal(sealedRequest{
		ClientID: ar.ClientID, RedirectURI: ar.RedirectURI, Scopes: ar.Scopes, State: ar.State, Nonce: ar.Nonce,
		ResponseType: ar.ResponseType, ResponseMode: ar.ResponseMode, CodeChallenge: ar.CodeChallenge,
		CodeChallengeMethod: ar.CodeChallengeMethod, Prompt: ar.Prompt, MaxAge: ar.MaxAge, LoginHint: ar.LoginHint,
		CreatedAt: ar.CreatedAt.UnixMicro(), ExpiresAt: ar.ExpiresAt.UnixMicro(),
	})
	if err != nil || p.requestSeal.sealedLen(len(raw)) > maxSealedRequestLen {
		return "", false
	}
	id, err := p.requestSeal.seal(raw)
	return id, err == nil
}

// openRequest returns the pending request a sealed id stands for (its ID
// is requestKey(id)); false for anything this broker did not seal.
func (p *Provider) openRequest(id string) (store.AuthRequest, bool) {
	if len(id) > maxSealedRequestLen {
		return store.AuthRequest{}, false
	}
	raw, ok := p.requestSeal.open(id)
	if !ok {
		return store.AuthRequest{}, false
	}
	var sr sealedRequest
	if json.Unmarshal(raw, &sr) != nil {
		return store.AuthRequest{}, false
	}
	return store.AuthRequest{
		ID: requestKey(id), ClientID: sr.ClientID, RedirectURI: sr.RedirectURI, Scopes: sr.Scopes, State: sr.State,
		Nonce: sr.Nonce, ResponseType: sr.ResponseType, ResponseMode: sr.ResponseMode, CodeChallenge: sr.CodeChallenge,
		CodeChallengeMethod: sr.CodeChallengeMethod, Prompt: sr.Prompt, MaxAge: sr.MaxAge, LoginHint: sr.LoginHint,
		CreatedAt: time.UnixMicro(sr.CreatedAt).UTC(), ExpiresAt: time.UnixMicro(sr.ExpiresAt).UTC(),
	}, true
}
