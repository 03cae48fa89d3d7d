package qapps

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// oidcClient signs users in to the gateway with the broker: an ordinary
// confidential client using the code flow with PKCE. With the broker's SSO
// session a user who came from Nextcloud is signed in without signing again.
type oidcClient struct {
	g       *Gateway
	cookies *httphelper.CookieHandler

	mu sync.Mutex
	rp rp.RelyingParty // made at first use: discovery needs the broker up
}

const nextCookie = "qapps_next"

func newOIDCClient(g *Gateway) *oidcClient {
	opts := []httphelper.CookieHandlerOpt{httphelper.WithSameSite(http.SameSiteLaxMode), httphelper.WithMaxAge(900)}
	if !g.secure {
		opts = append(opts, httphelper.WithUnsecure())
	}
	return &oidcClient{g: g, cookies: httphelper.NewCookieHandler(deriveKey(g.opt.KeyEncryptionKey, "oidc cookie hash"),
		deriveKey(g.opt.KeyEncryptionKey, "oidc cookie enc")[:32], opts...)}
}

func (o *oidcClient) party(ctx context.Context) (rp.RelyingParty, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.rp != nil {
		return o.rp, nil
	}
	p, err := rp.NewRelyingPartyOIDC(ctx, o.g.opt.Issuer, ClientID, ClientSecret(o.g.opt.KeyEncryptionKey), RedirectURI(o.g.opt.Origin),
		[]string{oidc.ScopeOpenID, oidc.ScopeProfile},
		rp.WithPKCE(o.cookies), rp.WithHTTPClient(o.g.opt.HTTPClient),
		rp.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, errorType, desc, _ string) {
			o.g.fail(w, r, &pageError{http.StatusBadRequest, "signin_failed", "Sign-in failed", "The broker answered " + errorType + ": " + desc})
		}))
	if err != nil {
		return nil, err
	}
	o.rp = p
	return p, nil
}

// safeNext keeps a post-login target on the gateway itself.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}

func (o *oidcClient) login(w http.ResponseWriter, r *http.Request) {
	p, err := o.party(r.Context())
	if err != nil {
		o.g.log.WarnContext(r.Context(), "qapps: broker discovery failed", "err", err)
		o.g.fail(w, r, &pageError{http.StatusBadGateway, "broker_unavailable", "Cannot sign in", "The gateway cannot reach the sign-in service right now."})
		return
	}
	next := safeNext(r.URL.Query().Get("next"))
	if r.URL.Query().Get("popup") == "1" {
		next = "popup:" + next
	}
	http.SetCookie(w, &http.Cookie{Name: nextCookie, Value: url.QueryEscape(next), Path: "/auth/", MaxAge: 900, HttpOnly: true,
		Secure: o.g.secure, SameSite: http.SameSiteLaxMode})
	rp.AuthURLHandler(func() string {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}, p)(w, r)
}

func (o *oidcClient) callback(w http.ResponseWriter, r *http.Request) {
	p, err := o.party(r.Context())
	if err != nil {
		o.g.fail(w, r, &pageError{http.StatusBadGateway, "broker_unavailable", "Cannot sign in", "The gateway cannot reach the sign-in service right now."})
		return
	}
	done := func(w http.ResponseWriter, r *http.Request, tokens *oidc.Tokens[*oidc.IDTokenClaims], _ string, _ rp.RelyingParty, info *oidc.UserInfo) {
		addr, _ := info.Claims["qortal_address"].(string)
		if addr == "" || info.Subject == "" || info.Subject != tokens.IDTokenClaims.Subject {
			o.g.fail(w, r, &pageError{http.StatusBadGateway, "signin_failed", "Sign-in failed", "The broker did not say which Qortal address signed in."})
			return
		}
		sid, _ := tokens.IDTokenClaims.Claims["sid"].(string)
		o.g.setSession(w, claims{User: info.Subject, Address: addr, Name: info.Name, Sid: sid})
		next := "/"
		if c, err := r.Cookie(nextCookie); err == nil {
			if v, err := url.QueryUnescape(c.Value); err == nil {
				next = v
			}
		}
		http.SetCookie(w, &http.Cookie{Name: nextCookie, Path: "/auth/", MaxAge: -1})
		if strings.HasPrefix(next, "popup:") {
			o.g.page(w, http.StatusOK, "popup", map[string]any{"Next": safeNext(strings.TrimPrefix(next, "popup:"))})
			return
		}
		http.Redirect(w, r, safeNext(next), http.StatusFound)
	}
	rp.CodeExchangeHandler(rp.UserinfoCallback(done), p)(w, r)
}
