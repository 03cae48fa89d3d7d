package oidcprovider

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	httphelper "github.com/zitadel/oidc/v3/pkg/http"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// maxStateBytes bounds state. Relying parties use a random value or a
// short reference; anything longer is an attempt to fill logs and URLs.
const maxStateBytes = 2048

// Error codes of authorization responses written here.
const (
	errInvalidRequest          = "invalid_request"
	errRequestNotSupported     = "request_not_supported"
	errRequestURINotSupported  = "request_uri_not_supported"
	errUnsupportedResponseType = "unsupported_response_type"
)

// authErrorResponse is an RFC 6749 section 4.1.2.1 error response; op's
// oidc.Error cannot carry the codes op does not define.
type authErrorResponse struct {
	Error       string `schema:"error"`
	Description string `schema:"error_description,omitempty"`
	State       string `schema:"state,omitempty"`
}

// issAuthorizer is op's Provider for the authorization endpoint, with an
// encoder that adds iss to every authorization response, success or error
// (RFC 9207: a client talking to several issuers can tell which one
// answered, which defeats mix-up attacks). Every redirect op builds for the
// authorization endpoint goes through the Authorizer's encoder.
type issAuthorizer struct {
	*op.Provider
	enc httphelper.Encoder
}

func (a issAuthorizer) Encoder() httphelper.Encoder { return a.enc }

type issEncoder struct {
	next httphelper.Encoder
	iss  string
}

func (e issEncoder) Encode(src any, dst map[string][]string) error {
	if err := e.next.Encode(src, dst); err != nil {
		return err
	}
	dst["iss"] = []string{e.iss}
	return nil
}

// authorizeEndpoint refuses what op would accept or answer badly, then
// hands the request to op. Errors go to the client's redirect URI when the
// client and the redirect URI check out (RFC 6749 section 4.1.2.1), and to
// the user as a page otherwise.
func (p *Provider) authorizeEndpoint(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(op.ContextWithIssuer(r.Context(), p.issuer))
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		authorizePage(w, http.StatusMethodNotAllowed, "The sign-in request must use GET or POST.")
		return
	}
	if err := r.ParseForm(); err != nil {
		authorizePage(w, http.StatusBadRequest, "The sign-in request is malformed.")
		return
	}
	f := r.Form
	repeated := repeatedParam(f)
	state := f.Get("state")
	// The redirect URI may only be used once it is known to be the
	// client's own: the client id and the redirect URI are read only when
	// they were sent once.
	redirectable := false
	if len(f["client_id"]) == 1 && len(f["redirect_uri"]) == 1 {
		redirectable = p.registeredRedirect(r.Context(), f.Get("client_id"), f.Get("redirect_uri"))
	}
	fail := func(code, description string, echoState bool) {
		if !redirectable {
			authorizePage(w, http.StatusBadRequest, description)
			return
		}
		e := authErrorResponse{Error: code, Description: description}
		if echoState {
			e.State = state
		}
		mode := oidc.ResponseMode("")
		if len(f["response_mode"]) == 1 {
			mode = oidc.ResponseMode(f.Get("response_mode"))
		}
		p.authResponse(w, r, f.Get("redirect_uri"), mode, e)
	}
	switch {
	case repeated != "":
		fail(errInvalidRequest, fmt.Sprintf("parameter %s is repeated", repeated), repeated != "state")
	case len(state) > maxStateBytes:
		// Dropped, not echoed: it would only travel back in a URL.
		fail(errInvalidRequest, fmt.Sprintf("state is longer than %d bytes", maxStateBytes), false)
	case f.Has("request_uri"):
		fail(errRequestURINotSupported, "request_uri is not supported: send the parameters in the request", true)
	case f.Has("request"):
		fail(errRequestNotSupported, "request objects are not supported: send the parameters in the request", true)
	case f.Get("response_type") == "":
		fail(errInvalidRequest, "response_type is required", true)
	case f.Get("response_type") != string(oidc.ResponseTypeCode):
		fail(errUnsupportedResponseType, "only response_type=code is supported", true)
	default:
		if p.loginPage != nil {
			// The same URL answers a page or a redirect by Accept.
			w.Header().Add("Vary", "Accept")
		}
		out := w
		var caught *loginRedirect
		if p.loginPageHere(r) {
			caught = &loginRedirect{ResponseWriter: w, prefix: p.issuer + loginPath + "?"}
			out = caught
		}
		if redirectable && f.Get("response_mode") == string(oidc.ResponseModeFormPost) {
			out = &formPostErrors{ResponseWriter: out, redirectURI: f.Get("redirect_uri")}
		}
		op.Authorize(out, r, p.authz)
		if caught != nil && caught.location != "" {
			p.serveLoginPage(w, r, caught.location)
		}
	}
}

// SetLoginPage gives the provider the login page's handler (GET
// /login?authRequestID=...), to serve in /authorize's own answer; call it
// before serving. Without it /authorize redirects to the page.
func (p *Provider) SetLoginPage(h http.Handler) { p.loginPage = h }

// loginPageHere reports whether /authorize answers r with the login page
// itself (as Keycloak does) instead of a redirect to it: one request and
// one round trip less for every login. op still validates the request and
// creates it; only its redirect to the login page is caught and replaced
// by what GET of that URL answers (the login page, or the single sign-on
// redirect to the relying party, or the page's own error), so the page
// cannot tell the two apart. Only a top-level GET that asks for HTML is
// answered so (a browser following the relying party's redirect); a POST
// (a reload would post again) and non-browser clients get the redirect.
// The page is the same document either way: it reads the request id from
// its own markup, not from its URL, and its links are absolute.
func (p *Provider) loginPageHere(r *http.Request) bool {
	return p.loginPage != nil && r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// loginPath is where op sends the browser (client.LoginURL).
const loginPath = "/login"

// serveLoginPage answers with what GET location (op's redirect to the
// login page, which loginRedirect kept from the response) answers.
func (p *Provider) serveLoginPage(w http.ResponseWriter, r *http.Request, location string) {
	u, err := url.Parse(location)
	if err != nil {
		http.Redirect(w, r, location, http.StatusFound)
		return
	}
	for _, h := range []string{"Location", "Content-Type", "Content-Length"} {
		w.Header().Del(h)
	}
	page := r.Clone(r.Context())
	page.URL = &url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}
	page.RequestURI = page.URL.RequestURI()
	page.Form, page.PostForm = nil, nil
	p.loginPage.ServeHTTP(w, page)
}

// loginRedirect swallows op's redirect to the login page (the one answer
// serveLoginPage replaces) and passes every other answer through.
type loginRedirect struct {
	http.ResponseWriter
	prefix   string
	location string
	answered bool
}

func (l *loginRedirect) WriteHeader(status int) {
	if l.answered {
		return
	}
	l.answered = true
	if loc := l.Header().Get("Location"); (status == http.StatusFound || status == http.StatusSeeOther) && strings.HasPrefix(loc, l.prefix) {
		l.location = loc
		return
	}
	l.ResponseWriter.WriteHeader(status)
}

func (l *loginRedirect) Write(b []byte) (int, error) {
	if !l.answered {
		l.WriteHeader(http.StatusOK)
	}
	if l.location != "" {
		return len(b), nil
	}
	return l.ResponseWriter.Write(b)
}

func (l *loginRedirect) Unwrap() http.ResponseWriter { return l.ResponseWriter }

// formPostErrors turns the error redirects op sends for a form_post
// request (op always redirects errors in the query) into the form_post
// page, as OAuth 2.0 Form Post Response Mode asks for every response.
// Only redirects to the request's own (already validated) redirect URI are
// turned; the redirect to the login page passes.
type formPostErrors struct {
	http.ResponseWriter
	redirectURI string
	swallow     bool
	answered    bool
}

func (f *formPostErrors) WriteHeader(status int) {
	if f.answered {
		return
	}
	f.answered = true
	if status == http.StatusFound {
		if values, ok := responseParams(f.Header().Get("Location"), f.redirectURI); ok {
			f.swallow = true
			f.Header().Del("Location")
			f.Header().Del("Content-Length")
			writeFormPost(f.ResponseWriter, f.redirectURI, values)
			return
		}
	}
	f.ResponseWriter.WriteHeader(status)
}

func (f *formPostErrors) Write(b []byte) (int, error) {
	if !f.answered {
		f.WriteHeader(http.StatusOK)
	}
	if f.swallow {
		return len(b), nil
	}
	return f.ResponseWriter.Write(b)
}

func (f *formPostErrors) Unwrap() http.ResponseWriter { return f.ResponseWriter }

// responseParams returns the parameters a redirect to redirectURI added to
// it, or false when location goes elsewhere.
func responseParams(location, redirectURI string) (url.Values, bool) {
	loc, err := url.Parse(location)
	if err != nil {
		return nil, false
	}
	reg, err := url.Parse(redirectURI)
	if err != nil || loc.Scheme != reg.Scheme || loc.Host != reg.Host || loc.Path != reg.Path {
		return nil, false
	}
	values := loc.Query()
	for k := range reg.Query() {
		values.Del(k)
	}
	return values, values.Has("error")
}

// registeredRedirect reports whether uri is exactly one of the client's
// registered redirect URIs.
func (p *Provider) registeredRedirect(ctx context.Context, clientID, uri string) bool {
	c, err := p.client(ctx, clientID)
	return err == nil && slices.Contains(c.RedirectURIs(), uri)
}

// authorizeCallback is op's AuthorizeCallback with the response written
// here: op's form_post page carries neither iss nor a CSP, and needs an
// inline event handler to submit.
func (p *Provider) authorizeCallback(w http.ResponseWriter, r *http.Request) {
	ctx := op.ContextWithIssuer(r.Context(), p.issuer)
	r = r.WithContext(ctx)
	id := r.URL.Query().Get("id")
	authReq, ok := p.completedWithFreshCode(ctx, id)
	if ok {
		ctx = context.WithValue(ctx, codeCheckedKey{}, id)
		r = r.WithContext(ctx)
	} else {
		var err error
		if authReq, err = p.storage.AuthRequestByID(ctx, id); err != nil {
			op.AuthRequestError(w, r, nil, err, p.authz)
			return
		}
	}
	if !authReq.Done() {
		op.AuthRequestError(w, r, authReq, oidc.ErrInteractionRequired().WithDescription("the sign-in was not completed"), p.authz)
		return
	}
	if _, err := p.storage.GetClientByClientID(ctx, authReq.GetClientID()); err != nil {
		op.AuthRequestError(w, r, authReq, err, p.authz)
		return
	}
	resp, err := op.BuildAuthResponseCodeResponsePayload(ctx, authReq, p.authz)
	if err != nil {
		op.AuthRequestError(w, r, authReq, err, p.authz)
		return
	}
	p.authResponse(w, r, authReq.GetRedirectURI(), authReq.GetResponseMode(), resp)
}

// codeCheckedKey marks a callback whose request was read through its
// unused code (completedWithFreshCode): SaveAuthCode need not read it again.
type codeCheckedKey struct{}

// completedWithFreshCode reads a completed request by the code its login
// stored (op's code for a request is derived from its id, see codeCrypto):
// one read that tells both that the request is done and that its code is
// still unused. Anything else (pending, unknown, expired, code used: a
// replayed callback) takes op's usual path, with its own answers.
func (p *Provider) completedWithFreshCode(ctx context.Context, id string) (op.AuthRequest, bool) {
	if id == "" {
		return nil, false
	}
	h := p.crypto.codeHash(id)
	now := p.now()
	ar, err := p.store.AuthRequestByCode(ctx, h, now)
	if err != nil || ar.ID != id || !ar.Done || !now.Before(ar.ExpiresAt) {
		return nil, false
	}
	return &authRequest{r: ar, codeHash: h}, true
}

// authResponse sends an authorization response (a code or an error) to
// the client: a redirect, or for response_mode=form_post a page that posts
// it. iss is always added by the encoder.
func (p *Provider) authResponse(w http.ResponseWriter, r *http.Request, redirectURI string, mode oidc.ResponseMode, resp any) {
	w.Header().Set("Cache-Control", "no-store")
	if mode == oidc.ResponseModeFormPost {
		values := url.Values{}
		if err := p.authz.Encoder().Encode(resp, values); err != nil {
			authorizePage(w, http.StatusInternalServerError, "The sign-in response could not be built.")
			return
		}
		writeFormPost(w, redirectURI, values)
		return
	}
	to, err := op.AuthResponseURL(redirectURI, oidc.ResponseTypeCode, oidc.ResponseModeQuery, resp, p.authz.Encoder())
	if err != nil {
		authorizePage(w, http.StatusInternalServerError, "The sign-in response could not be built.")
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// formPostScript submits the form; the CSP allows exactly this script by
// its hash, so the page needs no inline handler and no 'unsafe-inline'.
const formPostScript = `document.forms[0].submit();`

var formPostScriptHash = func() string {
	sum := sha256.Sum256([]byte(formPostScript))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

var formPostPage = template.Must(template.New("form_post").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Signing in…</title></head>
<body><form method="post" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><p>JavaScript is off. Press Continue to finish signing in.</p><button type="submit">Continue</button></noscript>
</form><script>` + formPostScript + `</script></body></html>
`))

type formField struct{ Name, Value string }

// writeFormPost renders the response_mode=form_post page with the
// broker's page policy: nothing loads, nothing frames it, and the form may
// post only to the client's redirect URI (its origin: a source expression
// cannot carry a query, and Chrome applies form-action to the redirects
// the relying party answers the post with, which stay on its origin).
func writeFormPost(w http.ResponseWriter, redirectURI string, values url.Values) {
	origin, ok := cspOrigin(redirectURI)
	if !ok {
		authorizePage(w, http.StatusInternalServerError, "The client's redirect URI cannot be posted to.")
		return
	}
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	slices.Sort(names)
	data := struct {
		Action string
		Fields []formField
	}{Action: redirectURI}
	for _, k := range names {
		for _, v := range values[k] {
			data.Fields = append(data.Fields, formField{k, v})
		}
	}
	var buf bytes.Buffer
	if err := formPostPage.Execute(&buf, data); err != nil {
		authorizePage(w, http.StatusInternalServerError, "The sign-in response could not be built.")
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src "+formPostScriptHash+"; "+
		"frame-ancestors 'none'; base-uri 'none'; form-action "+origin)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// authorizePage answers a sign-in request that cannot be sent back to the
// client. The message names the problem; nothing of the request is echoed.
func authorizePage(w http.ResponseWriter, status int, message string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	http.Error(w, "This sign-in request can't be used: "+message+" Go back to the application and sign in again.", status)
}

// cspOrigin is the origin of an http(s) URL, if it is safe to put into a
// CSP header: only host characters, so no registered URI can end the
// directive or add one.
func cspOrigin(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", false
	}
	for _, c := range u.Host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return "", false
		}
	}
	return u.Scheme + "://" + u.Host, true
}

// formPostPath renders a form_post response the broker decided outside an
// authorization endpoint answer: DenyLogin and FailSilentLogin return a
// URL for the login page to send the browser to, and for form_post
// clients that URL must lead to a page that posts, not to a query.
const (
	formPostPath = "/authorize/form_post"
	formPostTTL  = 5 * time.Minute
)

// errorResponseURL is where the browser goes to deliver error e for ar:
// the redirect URI with the error in the query, or for form_post the
// broker page that posts it.
func (p *Provider) errorResponseURL(ar store.AuthRequest, e *oidc.Error) (string, error) {
	if oidc.ResponseMode(ar.ResponseMode) != oidc.ResponseModeFormPost {
		return op.AuthResponseURL(ar.RedirectURI, oidc.ResponseType(ar.ResponseType), oidc.ResponseModeQuery, e, p.authz.Encoder())
	}
	values := url.Values{}
	if err := p.authz.Encoder().Encode(e, values); err != nil {
		return "", fmt.Errorf("encode error response: %w", err)
	}
	return p.formPostURL(ar.RedirectURI, values), nil
}

// formPostURL carries the response in the URL itself, MAC'd with the
// callback key (only the broker can make one) and expiring soon. Replaying
// one only posts the same error again, which the client's state check
// refuses.
func (p *Provider) formPostURL(redirectURI string, values url.Values) string {
	payload := url.Values{"redirect_uri": {redirectURI}, "exp": {strconv.FormatInt(p.now().Add(formPostTTL).Unix(), 10)}}
	for k, vs := range values {
		payload["p."+k] = vs
	}
	d := base64.RawURLEncoding.EncodeToString([]byte(payload.Encode()))
	return p.issuer + formPostPath + "?" + url.Values{"d": {d}, callbackParam: {p.formPostMAC(d)}}.Encode()
}

func (p *Provider) formPostMAC(d string) string {
	m := hmac.New(sha256.New, p.callbackKey)
	m.Write([]byte("form_post\x00" + d))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// formPostHandler serves formPostPath.
func (p *Provider) formPostHandler(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d, mac := q.Get("d"), q.Get(callbackParam)
	raw, err := base64.RawURLEncoding.DecodeString(d)
	if d == "" || err != nil || !hmac.Equal([]byte(mac), []byte(p.formPostMAC(d))) {
		authorizePage(w, http.StatusBadRequest, "This link is not valid.")
		return
	}
	payload, err := url.ParseQuery(string(raw))
	exp, _ := strconv.ParseInt(payload.Get("exp"), 10, 64)
	if err != nil || !p.now().Before(time.Unix(exp, 0)) {
		authorizePage(w, http.StatusBadRequest, "This link has expired.")
		return
	}
	values := url.Values{}
	for k, vs := range payload {
		if name, ok := strings.CutPrefix(k, "p."); ok {
			values[name] = vs
		}
	}
	writeFormPost(w, payload.Get("redirect_uri"), values)
}
