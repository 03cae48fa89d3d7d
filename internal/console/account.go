package console

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// The users' self-service page /account: signed in with the broker's single
// sign-on session, a user sees their address (names and balance from the
// node), their linked account, their broker sessions (sign out one, or
// everywhere with back-channel logout to the relying parties), their own
// recent sign-ins and mapping changes, and how to connect Nextcloud's
// desktop and mobile clients. It has the console's look and rules: no
// JavaScript, strict CSP, every POST same-origin with a CSRF token.

// AccountClientID is the broker's own client for signing in to /account.
const AccountClientID = "qortal-oidc-account"

const accountTxCookie = "qortal_oidc_account_tx"

// AccountClient is the /account page's registration, whose only redirect
// is /account/callback. It is confidential (like any web application here:
// op lets only those use http redirects on a dev issuer), with a secret
// derived from the key-encryption key so every replica registers the same.
func AccountClient(cfg config.Config) (config.Client, error) {
	k, err := hkdf.Key(sha256.New, cfg.OIDC.KeyEncryptionKey, nil, "qortal-oidc account client secret v1", 32)
	if err != nil {
		return config.Client{}, fmt.Errorf("account client secret: %w", err)
	}
	iss := strings.TrimSuffix(cfg.Issuer, "/")
	return config.Client{ID: AccountClientID, Name: "Your account", Secret: base64.RawURLEncoding.EncodeToString(k),
		RedirectURIs: []string{iss + "/account/callback"}, PostLogoutRedirectURIs: []string{iss + "/account"}}, nil
}

// Sessions is the broker's single sign-on (oidcprovider.Provider).
type Sessions interface {
	SignedIn(r *http.Request) (store.BrokerSession, bool)
	EndBrokerSession(ctx context.Context, id string) error
	EndSessionsForAddress(ctx context.Context, address, reason string) (int, error)
	ClearSessionCookie(w http.ResponseWriter)
}

// Node is what /account reads from the Qortal node (qortalnode.Client).
type Node interface {
	Names(ctx context.Context, address string) ([]string, error)
	Balance(ctx context.Context, address string) (string, error)
}

// AccountDeps are /account's collaborators beyond the console's.
type AccountDeps struct {
	Sessions Sessions
	Node     Node // nil when qortal.node_url is not set
	// Cookie is the name of the single sign-on cookie (its value keys the
	// CSRF token).
	Cookie string
}

type account struct {
	h           *Handler
	d           AccountDeps
	allowUnlink bool
	base        string
	ncURL       string
	nodeCache   sync.Map // address -> nodeInfo
}

type nodeInfo struct {
	Names     []string
	Balance   string
	Error     string // set when the node could not answer
	fetchedAt time.Time
}

const (
	nodeCacheTTL     = time.Minute
	nodeFailCacheTTL = 10 * time.Second
	nodeTimeout      = 2 * time.Second
)

// RegisterAccount mounts /account (call once the single sign-on exists).
func (h *Handler) RegisterAccount(r *mux.Router, cfg config.Config, d AccountDeps) {
	a := &account{h: h, d: d, allowUnlink: cfg.Account.AllowUnlink, base: strings.TrimSuffix(h.base, "/admin") + "/account",
		ncURL: strings.TrimSuffix(cfg.Nextcloud.URL, "/")}
	get := func(p string, f http.HandlerFunc) { r.HandleFunc(a.base+p, f).Methods(http.MethodGet, http.MethodHead) }
	post := func(p string, f http.HandlerFunc) { r.HandleFunc(a.base+p, f).Methods(http.MethodPost) }
	get("", a.page)
	post("/signin", a.signin)
	get("/callback", a.callback)
	post("/sessions/end", a.signedIn(a.endOne))
	post("/sessions/end-all", a.signedIn(a.endAll))
	post("/unlink", a.signedIn(a.unlink))
}

type accountSession struct {
	store.BrokerSession
	Device  string
	Current bool
}

type accountView struct {
	Address      string
	Standalone   bool // no Nextcloud: the address is the identity
	Mapping      *store.Mapping
	Node         *nodeInfo // nil: no node configured
	Sessions     []accountSession
	Activity     []store.AuditEntry
	AllowUnlink  bool
	NextcloudURL string
	Base         string
	Notice       string
}

var notices = map[string]string{
	"signed-out":            "That session is signed out.",
	"signed-out-everywhere": "You are signed out everywhere: every browser and every application was told.",
	"unlinked":              "Your Qortal address is no longer linked to that account.",
}

func (a *account) view(title string) view {
	v := a.h.view(title, "account")
	v.Base = a.base
	v.Account = true
	return v
}

func (a *account) page(w http.ResponseWriter, r *http.Request) {
	bs, ok := a.d.Sessions.SignedIn(r)
	if !ok {
		v := a.view("Your account")
		if e := r.URL.Query().Get("error"); e != "" {
			v.Error = e
		}
		v.D = accountView{Base: a.base, Notice: notices[r.URL.Query().Get("done")]}
		a.h.render(w, r, http.StatusOK, "account_signin.html", v)
		return
	}
	ctx := r.Context()
	av := accountView{Address: bs.QortalAddress, AllowUnlink: a.allowUnlink, NextcloudURL: a.ncURL, Base: a.base,
		Standalone: a.ncURL == "", Notice: notices[r.URL.Query().Get("done")]}
	v := a.view("Your account")
	v.CSRF = a.csrf(r, bs)
	m, err := a.h.d.Store.GetMappingByAddress(ctx, bs.QortalAddress)
	switch {
	case err == nil:
		av.Mapping = &m
		if m.Status == store.StatusBlocked {
			v.Title = "Sign-in blocked"
			v.D = av
			a.h.render(w, r, http.StatusForbidden, "account_blocked.html", v)
			return
		}
	case !errors.Is(err, store.ErrNotFound):
		a.h.fail(w, r, err)
		return
	}
	if a.d.Node != nil {
		av.Node = a.nodeInfo(ctx, bs.QortalAddress)
	}
	list, err := a.h.d.Store.ListBrokerSessions(ctx, bs.QortalAddress, a.h.now())
	if err != nil {
		a.h.fail(w, r, err)
		return
	}
	for _, s := range list {
		av.Sessions = append(av.Sessions, accountSession{BrokerSession: s, Device: device(s.UserAgent), Current: s.ID == bs.ID})
	}
	av.Activity = a.activity(ctx, bs.QortalAddress)
	if a.h.now().Sub(bs.LastSeenAt) > time.Minute {
		_ = a.h.d.Store.TouchBrokerSession(ctx, bs.ID, a.h.now()) // best effort: "last used"
	}
	v.D = av
	a.h.render(w, r, http.StatusOK, "account.html", v)
}

// activity is the address's own audit entries: its sign-ins and what was
// done to its mapping, newest first.
func (a *account) activity(ctx context.Context, address string) []store.AuditEntry {
	page, err := a.h.d.Store.ListAudit(ctx, store.ListOptions{Limit: 200, Query: address})
	if err != nil {
		a.h.log.WarnContext(ctx, "account: audit", "err", err)
		return nil
	}
	var out []store.AuditEntry
	for _, e := range page.Entries {
		if e.Subject == address || strings.HasSuffix(e.Actor, ":"+address) {
			out = append(out, e)
		}
		if len(out) == 25 {
			break
		}
	}
	return out
}

func (a *account) nodeInfo(ctx context.Context, address string) *nodeInfo {
	if c, ok := a.nodeCache.Load(address); ok {
		ni := c.(*nodeInfo)
		ttl := nodeCacheTTL
		if ni.Error != "" {
			ttl = nodeFailCacheTTL
		}
		if a.h.now().Sub(ni.fetchedAt) < ttl {
			return ni
		}
	}
	ctx, cancel := context.WithTimeout(ctx, nodeTimeout)
	defer cancel()
	ni := &nodeInfo{fetchedAt: a.h.now()}
	names, err := a.d.Node.Names(ctx, address)
	if err == nil {
		ni.Names = names
		ni.Balance, err = a.d.Node.Balance(ctx, address)
	}
	if err != nil {
		a.h.log.WarnContext(ctx, "account: qortal node", "err", err)
		ni = &nodeInfo{fetchedAt: a.h.now(), Error: "The Qortal node is not answering right now, so names and balance are unavailable."}
	}
	a.nodeCache.Store(address, ni)
	return ni
}

// signin starts a login at the broker as the account page's client (code
// flow with PKCE); the login page opens the single sign-on session.
func (a *account) signin(w http.ResponseWriter, r *http.Request) {
	if reason := a.h.crossOrigin(r); reason != "" {
		a.h.forbidden(w, r, reason)
		return
	}
	state, verifier := randomString(), randomString()
	http.SetCookie(w, &http.Cookie{Name: accountTxCookie, Value: state + "." + verifier, Path: a.base, MaxAge: 600,
		HttpOnly: true, Secure: a.h.secure, SameSite: http.SameSiteLaxMode})
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {AccountClientID}, "redirect_uri": {strings.TrimSuffix(a.h.issuer, "/") + "/account/callback"},
		"response_type": {"code"}, "scope": {"openid"}, "state": {state},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	setHeaders(w.Header())
	http.Redirect(w, r, strings.TrimSuffix(a.base, "/account")+"/authorize?"+q.Encode(), http.StatusSeeOther)
}

// callback ends the sign-in. What /account shows comes from the single
// sign-on session the login page opened, not from tokens, so the code is
// not exchanged: it expires unused within two minutes (and PKCE keeps it
// useless to anyone else).
func (a *account) callback(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(accountTxCookie)
	http.SetCookie(w, &http.Cookie{Name: accountTxCookie, Value: "", Path: a.base, MaxAge: -1, HttpOnly: true, Secure: a.h.secure, SameSite: http.SameSiteLaxMode})
	q := r.URL.Query()
	state, _, _ := strings.Cut(func() string {
		if err != nil {
			return ""
		}
		return c.Value
	}(), ".")
	if state == "" || !validToken(q.Get("state"), state) {
		v := a.view("Sign-in did not finish")
		v.Error = "This sign-in was not started here or took too long. Sign in again."
		v.D = accountView{Base: a.base}
		a.h.render(w, r, http.StatusBadRequest, "account_signin.html", v)
		return
	}
	if e := q.Get("error"); e != "" {
		v := a.view("Sign-in refused")
		v.Error = "Sign-in refused: " + q.Get("error_description") + "."
		v.D = accountView{Base: a.base}
		a.h.render(w, r, http.StatusForbidden, "account_signin.html", v)
		return
	}
	setHeaders(w.Header())
	http.Redirect(w, r, a.base, http.StatusSeeOther)
}

type accountHandler func(w http.ResponseWriter, r *http.Request, bs store.BrokerSession)

// signedIn guards the POSTs: same origin, a live session, its CSRF token.
func (a *account) signedIn(next accountHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if reason := a.h.crossOrigin(r); reason != "" {
			a.h.forbidden(w, r, reason)
			return
		}
		bs, ok := a.d.Sessions.SignedIn(r)
		if !ok {
			setHeaders(w.Header())
			http.Redirect(w, r, a.base, http.StatusSeeOther)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil || !validToken(r.PostForm.Get("csrf"), a.csrf(r, bs)) {
			a.h.forbidden(w, r, "the form's security token is missing or stale: reload the page and try again")
			return
		}
		next(w, r, bs)
	}
}

func (a *account) csrf(r *http.Request, bs store.BrokerSession) string {
	c, err := r.Cookie(a.d.Cookie)
	if err != nil {
		return ""
	}
	return derive(c.Value, "account csrf "+bs.ID)
}

func (a *account) done(w http.ResponseWriter, r *http.Request, notice string) {
	setHeaders(w.Header())
	http.Redirect(w, r, a.base+"?done="+notice, http.StatusSeeOther)
}

func (a *account) endOne(w http.ResponseWriter, r *http.Request, bs store.BrokerSession) {
	id := r.PostForm.Get("session")
	target, err := a.h.d.Store.GetBrokerSession(r.Context(), id)
	if err != nil || target.QortalAddress != bs.QortalAddress {
		a.done(w, r, "signed-out") // gone already, or not one of this user's: nothing to end
		return
	}
	if err := a.d.Sessions.EndBrokerSession(r.Context(), id); err != nil {
		a.h.fail(w, r, err)
		return
	}
	a.audit(r.Context(), bs.QortalAddress, "account.session_end", `{"session":"`+id+`"}`)
	if id == bs.ID {
		a.d.Sessions.ClearSessionCookie(w)
	}
	a.done(w, r, "signed-out")
}

func (a *account) endAll(w http.ResponseWriter, r *http.Request, bs store.BrokerSession) {
	if _, err := a.d.Sessions.EndSessionsForAddress(r.Context(), bs.QortalAddress, "user signed out everywhere"); err != nil {
		a.h.fail(w, r, err)
		return
	}
	a.audit(r.Context(), bs.QortalAddress, "account.signout_everywhere", `{}`)
	a.d.Sessions.ClearSessionCookie(w)
	a.done(w, r, "signed-out-everywhere")
}

func (a *account) unlink(w http.ResponseWriter, r *http.Request, bs store.BrokerSession) {
	if !a.allowUnlink {
		v := a.view("Unlinking is not allowed")
		v.Error = "Your administrator has not allowed unlinking here: ask them to unlink your address."
		a.h.render(w, r, http.StatusForbidden, "error.html", v)
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		v := a.view("Unlink not confirmed")
		v.Error = "Tick the box to confirm that you want to unlink your address."
		a.h.render(w, r, http.StatusBadRequest, "error.html", v)
		return
	}
	// provision audits the unlink (actor account:<address>); then the
	// address's sessions end, so the relying parties sign it out too.
	if _, err := a.h.d.Provision.Unlink(r.Context(), "account:"+bs.QortalAddress, bs.QortalAddress); err != nil {
		a.h.fail(w, r, err)
		return
	}
	if _, err := a.d.Sessions.EndSessionsForAddress(r.Context(), bs.QortalAddress, "user unlinked the address"); err != nil {
		a.h.log.WarnContext(r.Context(), "account: end sessions after unlink", "err", err)
	}
	a.d.Sessions.ClearSessionCookie(w)
	a.done(w, r, "unlinked")
}

func (a *account) audit(ctx context.Context, address, action, detail string) {
	if err := a.h.d.Store.AppendAudit(ctx, store.AuditEntry{At: a.h.now(), Actor: "account:" + address, Action: action,
		Subject: address, Detail: detail}); err != nil {
		a.h.log.WarnContext(ctx, "account: audit", "action", action, "err", err)
	}
}

// device is a short name for a browser from its User-Agent.
func device(ua string) string {
	if ua == "" {
		return "Unknown browser"
	}
	browser := "Browser"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"},
		{"Safari/", "Safari"}, {"curl/", "curl"}, {"Nextcloud", "Nextcloud client"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	os := ""
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"}, {"Mac OS X", "macOS"},
		{"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			os = o.name
			break
		}
	}
	if os == "" {
		return browser
	}
	return browser + " on " + os
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand does not fail
	return base64.RawURLEncoding.EncodeToString(b)
}
