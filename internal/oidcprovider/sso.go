package oidcprovider

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// SessionCookie names the broker's single sign-on cookie. It holds a random
// token (the store keeps only its SHA-256) and nothing else.
const SessionCookie = "qortal_oidc_sso"

// tokenLen is the cookie token's length: 32 random bytes, base64url.
const tokenLen = 43

// BrokerSession is a live single sign-on session of the broker.
type BrokerSession = store.BrokerSession

// SSOEnabled reports whether broker sessions are on (login.session_ttl > 0).
func (p *Provider) SSOEnabled() bool { return p.cfg.Login.SessionTTL > 0 }

// SignedIn answers "who is signed in in this browser": the live broker
// session the request's cookie names. An absent, malformed, forged,
// expired or ended cookie, or a store that cannot answer, is simply "no
// one": the caller asks for a fresh signature, never shows an error.
func (p *Provider) SignedIn(r *http.Request) (BrokerSession, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || !p.SSOEnabled() || len(c.Value) != tokenLen {
		return BrokerSession{}, false
	}
	bs, err := p.store.GetBrokerSessionByToken(r.Context(), hashToken(c.Value))
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			p.logger.WarnContext(r.Context(), "load broker session", "error", err)
		}
		return BrokerSession{}, false
	}
	if !p.now().Before(bs.ExpiresAt) {
		return BrokerSession{}, false
	}
	return bs, true
}

// cookie builds the session cookie: host-only on the issuer's origin,
// HttpOnly, SameSite=Lax (sent on the top-level navigation a relying party
// starts to /authorize, never on cross-site subrequests), Secure on https.
func (p *Provider) cookie(value string, expires time.Time) *http.Cookie {
	u, _ := url.Parse(p.issuer) // validated in New
	path := strings.TrimSuffix(u.Path, "/") + "/"
	c := &http.Cookie{Name: SessionCookie, Value: value, Path: path, HttpOnly: true,
		Secure: u.Scheme == "https", SameSite: http.SameSiteLaxMode}
	if value == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
		c.MaxAge = int(time.Until(expires).Seconds())
		if c.MaxAge <= 0 {
			c.MaxAge = 1
		}
	}
	return c
}

// ClearSessionCookie tells the browser to drop the session cookie.
func (p *Provider) ClearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, p.cookie("", time.Time{}))
}

// CompleteBrowserLogin is CompleteLogin for a login a browser just signed:
// it also opens the broker session, in the same store transaction, and
// sets its cookie on w. A previous session of this browser is replaced (a
// new signature gets a new token); its relying party sessions move over
// when it was the same address's.
//
// rec is written in the same transaction (see CompleteLogin).
func (p *Provider) CompleteBrowserLogin(w http.ResponseWriter, r *http.Request, authRequestID string, m store.Mapping, authTime time.Time, rec ...LoginRecord) (string, error) {
	if !p.SSOEnabled() {
		return p.CompleteLogin(r.Context(), authRequestID, m, authTime, rec...)
	}
	bs, token, replaces, err := p.newBrokerSession(r, m.QortalAddress, authTime)
	if err != nil {
		return "", err
	}
	to, err := p.completeLogin(r.Context(), authRequestID, m, bs.AuthTime, rec, func(c *store.AuthCompletion) {
		c.NewBrokerSession, c.ReplacesBrokerSessionID = &bs, replaces
	})
	if err != nil {
		return "", err
	}
	http.SetCookie(w, p.cookie(token, bs.ExpiresAt))
	return to, nil
}

// OpenBrokerSession signs this browser in as address, proven by a
// signature made at authTime that completes no login (an onboarding
// invite's): the broker session a login would have opened, replacing the
// browser's previous one the same way. The next /authorize of any relying
// party then needs no signature while the login policy admits the address.
// Nothing happens when single sign-on is off.
func (p *Provider) OpenBrokerSession(w http.ResponseWriter, r *http.Request, address string, authTime time.Time) error {
	if !p.SSOEnabled() {
		return nil
	}
	bs, token, replaces, err := p.newBrokerSession(r, address, authTime)
	if err != nil {
		return err
	}
	if err := p.store.CreateBrokerSession(r.Context(), bs, replaces); err != nil {
		return err
	}
	http.SetCookie(w, p.cookie(token, bs.ExpiresAt))
	return nil
}

// newBrokerSession is a new broker session for address, signed at authTime
// (now when zero), with the cookie token that finds it and the id of the
// browser's current session, which it replaces.
func (p *Provider) newBrokerSession(r *http.Request, address string, authTime time.Time) (bs store.BrokerSession, token, replaces string, err error) {
	if authTime.IsZero() {
		authTime = p.now()
	}
	if token, err = randomToken(); err != nil {
		return bs, "", "", err
	}
	id, err := randomID("bs_")
	if err != nil {
		return bs, "", "", err
	}
	now := p.now()
	bs = store.BrokerSession{ID: id, TokenHash: hashToken(token), QortalAddress: address, AuthTime: authTime,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: authTime.Add(p.cfg.Login.SessionTTL),
		UserAgent: store.TrimUserAgent(r.UserAgent())}
	if !bs.ExpiresAt.After(now) {
		bs.ExpiresAt = now.Add(p.cfg.Login.SessionTTL)
	}
	if old, ok := p.SignedIn(r); ok {
		replaces = old.ID
	}
	return bs, token, replaces, nil
}

// CompleteLoginFromSession completes the auth request without a signature,
// vouched for by the live broker session bs (single sign-on). The caller
// has decided that the request allows it (see SessionSatisfies) and that
// m, the account bs's address resolves to now, may log in. store.ErrNotFound
// when bs was ended or expired meanwhile: then ask for a signature.
func (p *Provider) CompleteLoginFromSession(ctx context.Context, authRequestID string, m store.Mapping, bs BrokerSession, rec ...LoginRecord) (string, error) {
	if m.QortalAddress != bs.QortalAddress {
		return "", errors.New("complete login from session: mapping is for another address")
	}
	return p.completeLogin(ctx, authRequestID, m, bs.AuthTime, rec, func(c *store.AuthCompletion) { c.BrokerSessionID = bs.ID })
}

// SessionSatisfies reports whether the broker session may stand in for a
// signature on this auth request: not when the relying party asked for a
// fresh login (prompt=login, which op turns into max_age=0) or the
// signature is older than its max_age.
func (p *Provider) SessionSatisfies(ar AuthRequestInfo, bs BrokerSession) bool {
	for _, v := range ar.Prompt {
		if v == oidc.PromptLogin {
			return false
		}
	}
	if ar.MaxAge != nil && p.now().Sub(bs.AuthTime) > time.Duration(*ar.MaxAge)*time.Second {
		return false
	}
	return p.now().Before(bs.ExpiresAt)
}

// PromptNone reports whether the relying party asked for a silent login.
func (ar AuthRequestInfo) PromptNone() bool {
	for _, v := range ar.Prompt {
		if v == oidc.PromptNone {
			return true
		}
	}
	return false
}

// FailSilentLogin ends a prompt=none auth request the broker cannot
// complete without the user, with login_required to the relying party.
func (p *Provider) FailSilentLogin(ctx context.Context, authRequestID, description string) (string, error) {
	return p.endWithError(ctx, authRequestID, oidc.ErrLoginRequired().WithDescription("%s", description))
}

// EndBrokerSession ends one broker session (sign-out in one browser) and
// every relying party session opened through it, telling each relying
// party over the back channel. Ending a session that is already gone is
// not an error.
func (p *Provider) EndBrokerSession(ctx context.Context, id string) error {
	_, ended, err := p.store.EndBrokerSession(ctx, id, p.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("end broker session: %w", err)
	}
	for _, s := range ended {
		p.backchannelLogout(ctx, s)
	}
	p.logger.InfoContext(ctx, "broker session ended", "relying_party_sessions", len(ended))
	return nil
}

// EndSessionsForAddress signs the address out everywhere: every broker
// session and every open relying party session of it end (their tokens are
// revoked) and each relying party is told over the back channel. It is what
// "sign out everywhere", block and unlink call; reason goes to the log.
// It returns how many relying party sessions ended.
func (p *Provider) EndSessionsForAddress(ctx context.Context, address, reason string) (int, error) {
	gone, ended, err := p.store.EndAllSessionsForAddress(ctx, address, p.now())
	if err != nil {
		return 0, fmt.Errorf("end sessions of %s: %w", address, err)
	}
	for _, s := range ended {
		p.backchannelLogout(ctx, s)
	}
	if len(gone)+len(ended) > 0 {
		p.logger.InfoContext(ctx, "signed out everywhere", "address", address, "reason", reason,
			"broker_sessions", len(gone), "relying_party_sessions", len(ended))
	}
	return len(ended), nil
}

// endWithError ends a pending auth request with e to the relying party and
// returns the URL the browser must go to.
func (p *Provider) endWithError(ctx context.Context, authRequestID string, e *oidc.Error) (string, error) {
	ar, err := p.loadAuthRequest(ctx, authRequestID)
	if err != nil {
		return "", fmt.Errorf("end auth request: %w", err)
	}
	if ar.Done {
		return "", fmt.Errorf("end auth request: %w", store.ErrAuthRequestDone)
	}
	e.State = ar.State
	to, err := p.errorResponseURL(ar, e)
	if err != nil {
		return "", fmt.Errorf("end auth request: %w", err)
	}
	p.pending.forget(authRequestID)
	if isSealedRequest(authRequestID) {
		err = p.store.EndAuthRequest(ctx, ar) // never stored: recorded as ended
	} else {
		err = p.store.DeleteAuthRequest(ctx, authRequestID)
	}
	if err != nil {
		return "", fmt.Errorf("end auth request: %w", err)
	}
	return to, nil
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
