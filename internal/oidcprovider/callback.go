package oidcprovider

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// callbackParam carries the MAC that binds a callback URL to the login that
// completed it.
const callbackParam = "k"

// callbackURL is where the browser goes once the login is proven: op's
// callback, which issues the code. The auth request id alone is not enough
// to claim it. Whoever started the login knows the id (it is in the login
// page link), so an attacker could start a login at the relying party, send
// the victim the broker's login link, and poll the callback until the victim
// has signed: the code, issued into the attacker's browser session, would
// log the attacker in as the victim. The MAC is only ever handed to the
// party that proved the key, so only that party can collect the code.
func (p *Provider) callbackURL(id string) string {
	base := op.AuthCallbackURL(p.op)(op.ContextWithIssuer(context.Background(), p.issuer), id)
	return base + "&" + url.Values{callbackParam: {p.callbackMAC(id)}}.Encode()
}

func (p *Provider) callbackMAC(id string) string {
	m := hmac.New(sha256.New, p.callbackKey)
	m.Write([]byte("callback\x00" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// codeResponseURL is where a completed login sends the browser: straight to
// the relying party with the code when the response is a redirect, saving
// the browser a request to op's callback (the code was stored with the
// completion and is derived from the request id, so nothing is left for the
// callback to do). The URL goes only to whoever proved the key, in the
// response to the proof, so it is as bound as the callback's MAC. A
// form_post response needs a page that posts it: that is the callback's
// job, as it is when building the redirect fails for any reason.
func (p *Provider) codeResponseURL(ar store.AuthRequest) string {
	if ar.ResponseMode == string(oidc.ResponseModeFormPost) {
		return p.callbackURL(ar.ID)
	}
	// What op's callback would send (op.AuthResponseURL with the iss
	// encoder): the redirect URI's own query, then code, state and iss.
	u, err := url.Parse(ar.RedirectURI)
	if err != nil {
		return p.callbackURL(ar.ID)
	}
	q := u.Query()
	q.Add("code", p.crypto.codeFor(ar.ID))
	if ar.State != "" {
		q.Add("state", ar.State)
	}
	q.Add("iss", p.issuer)
	u.RawQuery = q.Encode()
	return u.String()
}

// boundCallback lets a callback through only with the MAC of its id.
func (p *Provider) boundCallback(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		id, mac := q.Get("id"), q.Get(callbackParam)
		if id == "" || mac == "" || !hmac.Equal([]byte(mac), []byte(p.callbackMAC(id))) {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "This sign-in link is not valid. Go back to the application and sign in again.", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}
