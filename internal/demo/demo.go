// Package demo is the built-in demo relying party at /demo: a "Sign in
// with Qortal" button that runs the real authorization code + PKCE flow
// against this broker as a registered client, then shows the ID token's
// verified claims and the userinfo answer, and signs out through
// end_session. It is an ordinary OIDC client (zitadel's rp): it talks to the
// broker's endpoints over HTTP, only in-process (see Transport) so it works
// whatever the issuer's public address resolves to inside the server.
package demo

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/web"
)

// ClientID is the demo's client id at the broker.
const ClientID = "qortal-oidc-demo"

const (
	txCookie      = "qortal_oidc_demo_tx" // state, nonce and PKCE verifier of a login in progress
	sessionCookie = "qortal_oidc_demo"    // the signed-in demo user's verified claims
	txTTL         = 10 * time.Minute
	sessionTTL    = time.Hour
	maxCookie     = 3800 // browsers keep 4096 bytes per cookie
)

// pageCSP: no script at all, forms only to the broker (the sign-out form
// posts here and is redirected to end_session, on the same origin).
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// secret derives the demo client's secret from the key-encryption key, so
// every replica registers (and uses) the same one without storing it.
func secret(kek []byte) (string, error) {
	k, err := hkdf.Key(sha256.New, kek, nil, "qortal-oidc demo client secret v1", 32)
	if err != nil {
		return "", fmt.Errorf("demo: derive client secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(k), nil
}

// Client is the demo's registration, to add to the configured clients
// (the provider syncs them into the store; disabling the demo removes it).
func Client(cfg config.Config) (config.Client, error) {
	s, err := secret(cfg.OIDC.KeyEncryptionKey)
	if err != nil {
		return config.Client{}, err
	}
	iss := strings.TrimSuffix(cfg.Issuer, "/")
	return config.Client{ID: ClientID, Name: "qortal-oidc demo app", Secret: s,
		RedirectURIs: []string{iss + "/demo/callback"}, PostLogoutRedirectURIs: []string{iss + "/demo"}}, nil
}

// Handler serves /demo.
type Handler struct {
	issuer, base, secret string
	alg                  string // the broker's ID token algorithm
	secure               bool
	key                  []byte // MACs the demo's cookies
	httpClient           *http.Client
	log                  *slog.Logger
	pages                *template.Template
	assetURL             func(string) (string, error)

	mu      sync.Mutex
	relying rp.RelyingParty // made on first use: discovery needs the server up
}

// New builds the demo. transport reaches the broker (Transport wraps the
// server's own handler); assetURL gives the login page's static files.
func New(cfg config.Config, transport http.RoundTripper, assetURL func(string) (string, error), log *slog.Logger) (*Handler, error) {
	s, err := secret(cfg.OIDC.KeyEncryptionKey)
	if err != nil {
		return nil, err
	}
	key, err := hkdf.Key(sha256.New, cfg.OIDC.KeyEncryptionKey, nil, "qortal-oidc demo cookies v1", 32)
	if err != nil {
		return nil, fmt.Errorf("demo: derive cookie key: %w", err)
	}
	iss := strings.TrimSuffix(cfg.Issuer, "/")
	u, err := url.Parse(iss)
	if err != nil {
		return nil, fmt.Errorf("demo: issuer: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	alg := cfg.OIDC.SigningAlg
	if alg == "" {
		alg = "RS256"
	}
	h := &Handler{alg: alg, issuer: iss, base: strings.TrimSuffix(u.Path, "/") + "/demo", secret: s, secure: u.Scheme == "https", key: key,
		httpClient: &http.Client{Transport: transport, Timeout: 15 * time.Second}, log: log, assetURL: assetURL}
	h.pages, err = template.New("demo").Funcs(template.FuncMap{"asset": assetURL}).ParseFS(web.Templates(), "base.html", "demo.html")
	if err != nil {
		return nil, fmt.Errorf("demo: templates: %w", err)
	}
	return h, nil
}

// Register mounts /demo, /demo/login, /demo/callback and /demo/logout.
func (h *Handler) Register(r *mux.Router) {
	r.HandleFunc(h.base, h.page).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(h.base+"/login", h.login).Methods(http.MethodPost)
	r.HandleFunc(h.base+"/callback", h.callback).Methods(http.MethodGet)
	r.HandleFunc(h.base+"/logout", h.logout).Methods(http.MethodPost)
}

func (h *Handler) rp(ctx context.Context) (rp.RelyingParty, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.relying != nil {
		return h.relying, nil
	}
	relying, err := rp.NewRelyingPartyOIDC(ctx, h.issuer, ClientID, h.secret, h.issuer+"/demo/callback",
		[]string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail}, rp.WithHTTPClient(h.httpClient),
		rp.WithVerifierOpts(rp.WithSupportedSigningAlgorithms(h.alg)),
		rp.WithVerifierOpts(rp.WithNonce(func(ctx context.Context) string {
			n, _ := ctx.Value(nonceKey{}).(string)
			return n
		})))
	if err != nil {
		return nil, fmt.Errorf("demo: discovery: %w", err)
	}
	h.relying = relying
	return relying, nil
}

// transaction is what the browser keeps between /demo/login and the callback.
type transaction struct {
	State, Nonce, Verifier string
	Exp                    int64
}

// signedIn is the demo's own session: what the callback verified.
type signedIn struct {
	Claims   json.RawMessage // the ID token's verified claims
	Userinfo json.RawMessage
	IDToken  string // for end_session's id_token_hint ("" when it did not fit the cookie)
	Exp      int64
}

type pageData struct {
	Title, IssuerHost, Base, Issuer string
	Account                         string // the /account page
	Claims, Userinfo                string
	Error, Notice                   string
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	d := pageData{Title: "qortal-oidc demo app", IssuerHost: hostOf(h.issuer), Base: h.base, Issuer: h.issuer,
		Account: strings.TrimSuffix(h.base, "/demo") + "/account"}
	var s signedIn
	if h.readCookie(r, sessionCookie, &s) && time.Now().Unix() < s.Exp {
		d.Claims, d.Userinfo = indent(s.Claims), indent(s.Userinfo)
	}
	if r.URL.Query().Get("state") == "signed_out" && d.Claims == "" {
		d.Notice = "You are signed out of the demo app and of the broker."
	}
	h.render(w, r, http.StatusOK, d)
}

// login starts the authorization code flow with PKCE, state and nonce.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	relying, err := h.rp(r.Context())
	if err != nil {
		h.fail(w, r, http.StatusBadGateway, "The demo app could not read the broker's discovery document.", err)
		return
	}
	tx := transaction{State: random(), Nonce: random(), Verifier: random() + random(), Exp: time.Now().Add(txTTL).Unix()}
	h.setCookie(w, txCookie, tx, txTTL)
	sum := sha256.Sum256([]byte(tx.Verifier))
	to := rp.AuthURL(tx.State, relying, rp.WithCodeChallenge(base64.RawURLEncoding.EncodeToString(sum[:])),
		rp.AuthURLOpt(rp.WithURLParam("nonce", tx.Nonce)))
	setHeaders(w.Header())
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// callback checks state, exchanges the code (PKCE), verifies the ID token
// (signature against the JWKS, iss, aud, exp, nonce) and asks userinfo.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var tx transaction
	if !h.readCookie(r, txCookie, &tx) || time.Now().Unix() > tx.Exp {
		h.fail(w, r, http.StatusBadRequest, "This sign-in was not started here or took too long. Sign in again.", nil)
		return
	}
	h.clearCookie(w, txCookie)
	if !hmac.Equal([]byte(q.Get("state")), []byte(tx.State)) {
		h.fail(w, r, http.StatusBadRequest, "The state parameter does not match this sign-in. Sign in again.", nil)
		return
	}
	if e := q.Get("error"); e != "" {
		h.fail(w, r, http.StatusOK, "The broker answered "+e+": "+q.Get("error_description"), nil)
		return
	}
	relying, err := h.rp(r.Context())
	if err != nil {
		h.fail(w, r, http.StatusBadGateway, "The demo app could not reach the broker.", err)
		return
	}
	ctx := context.WithValue(r.Context(), nonceKey{}, tx.Nonce)
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, q.Get("code"), relying, rp.WithCodeVerifier(tx.Verifier))
	if err != nil {
		h.fail(w, r, http.StatusBadGateway, "Exchanging the code or verifying the ID token failed: "+err.Error(), nil)
		return
	}
	claims, err := json.Marshal(tokens.IDTokenClaims)
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, "The ID token claims could not be shown.", err)
		return
	}
	info, err := rp.Userinfo[*oidc.UserInfo](r.Context(), tokens.AccessToken, tokens.TokenType, tokens.IDTokenClaims.Subject, relying)
	var userinfo []byte
	if err != nil {
		userinfo, _ = json.Marshal(map[string]string{"error": err.Error()})
	} else if userinfo, err = json.Marshal(info); err != nil {
		userinfo = []byte(`{}`)
	}
	s := signedIn{Claims: claims, Userinfo: userinfo, IDToken: tokens.IDToken, Exp: time.Now().Add(sessionTTL).Unix()}
	if !h.setCookie(w, sessionCookie, s, sessionTTL) {
		s.IDToken = "" // end_session then goes without a hint
		h.setCookie(w, sessionCookie, s, sessionTTL)
	}
	setHeaders(w.Header())
	http.Redirect(w, r, h.base, http.StatusSeeOther)
}

// logout ends the demo's session and sends the browser to the broker's
// end_session with the ID token as hint, back to /demo afterwards.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		h.fail(w, r, http.StatusForbidden, "This sign-out form was sent from another site.", nil)
		return
	}
	var s signedIn
	h.readCookie(r, sessionCookie, &s)
	h.clearCookie(w, sessionCookie)
	q := url.Values{"client_id": {ClientID}, "post_logout_redirect_uri": {h.issuer + "/demo"}, "state": {"signed_out"}}
	if s.IDToken != "" {
		q.Set("id_token_hint", s.IDToken)
	}
	setHeaders(w.Header())
	http.Redirect(w, r, h.issuer+"/end_session?"+q.Encode(), http.StatusSeeOther)
}

type nonceKey struct{}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	if err != nil {
		h.log.WarnContext(r.Context(), "demo", "err", err)
	}
	d := pageData{Title: "qortal-oidc demo app", IssuerHost: hostOf(h.issuer), Base: h.base, Issuer: h.issuer, Error: msg}
	h.render(w, r, status, d)
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	var buf bytes.Buffer
	if err := h.pages.ExecuteTemplate(&buf, "demo.html", d); err != nil {
		h.log.ErrorContext(r.Context(), "demo: render", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	setHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

func setHeaders(hd http.Header) {
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Content-Security-Policy", pageCSP)
}

// Cookies are JSON, base64url, with an HMAC: the demo trusts only what its
// own callback verified.
func (h *Handler) setCookie(w http.ResponseWriter, name string, v any, ttl time.Duration) bool {
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	val := base64.RawURLEncoding.EncodeToString(b) + "." + h.mac(name, b)
	if len(val) > maxCookie {
		return false
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: val, Path: h.base, MaxAge: int(ttl.Seconds()), HttpOnly: true,
		Secure: h.secure, SameSite: http.SameSiteLaxMode})
	return true
}

func (h *Handler) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: h.base, MaxAge: -1, HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
}

func (h *Handler) readCookie(r *http.Request, name string, v any) bool {
	c, err := r.Cookie(name)
	if err != nil {
		return false
	}
	text, mac, ok := strings.Cut(c.Value, ".")
	if !ok {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil || !hmac.Equal([]byte(mac), []byte(h.mac(name, b))) {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

func (h *Handler) mac(name string, b []byte) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(name + "\x00"))
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func indent(raw json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

func hostOf(issuer string) string {
	if u, err := url.Parse(issuer); err == nil {
		return u.Host
	}
	return issuer
}

// Transport routes the demo's requests to handler in-process. The demo
// still speaks HTTP to every endpoint (discovery, token, JWKS, userinfo);
// it just never leaves the process, so a public issuer URL that does not
// resolve from inside the server (containers, split DNS) does not matter.
func Transport(handler func() http.Handler) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		h := handler()
		if h == nil {
			return nil, errors.New("demo: broker handler not ready")
		}
		rec := newRecorder()
		r := req.Clone(req.Context())
		r.RequestURI = req.URL.RequestURI()
		r.RemoteAddr = "127.0.0.1:0"
		if r.Body == nil {
			r.Body = http.NoBody
		}
		h.ServeHTTP(rec, r)
		return rec.result(req), nil
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
