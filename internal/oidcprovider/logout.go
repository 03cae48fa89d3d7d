package oidcprovider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

const (
	// BackchannelLogoutEvent is the event key of a logout token.
	BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"
	backchannelTimeout     = 5 * time.Second
	logoutTokenTTL         = 2 * time.Minute
	loggedOutPath          = "/end_session/done"
)

// TerminateSession ends every session of userID at clientID (op calls it
// only when TerminateSessionFromRequest is not available; kept for
// completeness).
func (s *storage) TerminateSession(ctx context.Context, userID, clientID string) error {
	sessions, err := s.p.store.EndSessionsFor(ctx, userID, clientID, s.p.now())
	if err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	for _, sess := range sessions {
		s.p.backchannelLogout(ctx, sess)
	}
	return nil
}

// TerminateSessionFromRequest ends the session named by the id_token_hint's
// sid (or all of the user's sessions at the client when the hint has none)
// and tells the client over the back channel. The broker's own browser
// session is ended before, in endSessionHandler, which sees the cookie.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	if req.IDTokenHintClaims == nil {
		return req.RedirectURI, nil
	}
	sid, _ := req.IDTokenHintClaims.Claims["sid"].(string)
	if sid == "" {
		sid = req.IDTokenHintClaims.SessionID
	}
	if sid == "" {
		return req.RedirectURI, s.TerminateSession(ctx, req.UserID, req.ClientID)
	}
	sess, err := s.p.store.GetSession(ctx, sid)
	if errors.Is(err, store.ErrNotFound) {
		return req.RedirectURI, nil
	}
	if err != nil {
		return "", fmt.Errorf("load session: %w", err)
	}
	if sess.Subject != req.UserID || (req.ClientID != "" && sess.ClientID != req.ClientID) {
		return req.RedirectURI, nil // a hint about someone else's session ends nothing
	}
	sess, err = s.p.store.EndSession(ctx, sid, s.p.now())
	if errors.Is(err, store.ErrNotFound) {
		return req.RedirectURI, nil // already ended (e.g. by Nextcloud's own call)
	}
	if err != nil {
		return "", fmt.Errorf("end session: %w", err)
	}
	s.p.backchannelLogout(ctx, sess)
	return req.RedirectURI, nil
}

// backchannelLogout posts a logout token to the session's client, in the
// background: Nextcloud may itself be waiting on our end_session answer
// (single-worker PHP servers would deadlock), and a slow RP must not hold up
// the user's redirect. Failures are logged; delivery is best effort.
func (p *Provider) backchannelLogout(ctx context.Context, sess store.Session) {
	if own, _ := ctx.Value(rpEndingKey{}).(string); own != "" && own == sess.ID {
		p.logger.DebugContext(ctx, "back-channel logout skipped: the relying party is ending this session itself",
			"client_id", sess.ClientID)
		return
	}
	c, err := p.client(ctx, sess.ClientID)
	if err != nil || c.c.BackchannelLogoutURI == "" {
		return
	}
	token, err := p.logoutToken(ctx, sess)
	if err != nil {
		p.logger.ErrorContext(ctx, "build logout token", "client_id", sess.ClientID, "error", err)
		return
	}
	target := c.c.BackchannelLogoutURI
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), backchannelTimeout)
		defer cancel()
		if err := p.postLogoutToken(ctx, target, token); err != nil {
			p.logger.WarnContext(ctx, "back-channel logout failed", "client_id", sess.ClientID, "error", err)
			return
		}
		p.logger.InfoContext(ctx, "back-channel logout delivered", "client_id", sess.ClientID)
	}()
}

func (p *Provider) postLogoutToken(ctx context.Context, target, token string) error {
	body := url.Values{"logout_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.http.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post: HTTP %d", resp.StatusCode)
	}
	return nil
}

// logoutToken builds the OIDC Back-Channel Logout 1.0 token: iss, aud,
// iat, exp, jti, events, sid, sub, and never a nonce.
func (p *Provider) logoutToken(ctx context.Context, sess store.Session) (string, error) {
	key, err := p.keys.signingKey(ctx)
	if err != nil {
		return "", err
	}
	jti, err := randomID("")
	if err != nil {
		return "", err
	}
	now := time.Now()
	claims := map[string]any{
		"iss":    p.issuer,
		"aud":    sess.ClientID,
		"iat":    now.Unix(),
		"exp":    now.Add(logoutTokenTTL).Unix(),
		"jti":    jti,
		"sub":    sess.Subject,
		"sid":    sess.ID,
		"events": map[string]any{BackchannelLogoutEvent: map[string]any{}},
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("logout token claims: %w", err)
	}
	return key.sign("logout+jwt", payload)
}

// endSessionHandler wraps op's end_session: an id_token_hint signed by a key
// that is gone, or otherwise unverifiable, is dropped instead of failing the
// logout (a hint is only a hint; the user wants out either way). The query
// user_oidc builds is not URL-encoded, which Go's parser accepts as long as
// the values hold no '&', '#' or '+', true of Nextcloud's URLs.
func (p *Provider) endSessionHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "malformed logout request", http.StatusBadRequest)
			return
		}
		// op answers 500 server_error for an unknown client_id; it is the
		// caller's mistake, and the logout cannot redirect anywhere.
		if id := r.Form.Get("client_id"); id != "" {
			if _, err := p.client(r.Context(), id); errors.As(err, new(notFound)) {
				w.Header().Set("Cache-Control", "no-store")
				http.Error(w, "Unknown client: this sign-out link names an application the broker does not know.", http.StatusBadRequest)
				return
			}
		}
		var hintClaims []byte
		if hint := r.Form.Get("id_token_hint"); hint != "" {
			var ok bool
			if hintClaims, ok = p.verifiableHint(r.Context(), hint); !ok {
				r.Form.Del("id_token_hint")
			}
		}
		if sid := p.ownSessionOfHint(r.Context(), hintClaims); sid != "" {
			// The relying party is ending this session itself (user_oidc
			// deletes its own session row first and would answer a logout
			// token for it with HTTP 400): no back-channel call for it.
			r = r.WithContext(context.WithValue(r.Context(), rpEndingKey{}, sid))
		}
		if bs, ok := p.SignedIn(r); ok && p.logoutEndsBrokerSession(r, bs, hintClaims) {
			if err := p.EndBrokerSession(r.Context(), bs.ID); err != nil {
				p.logger.ErrorContext(r.Context(), "end broker session at logout", "error", err)
			} else {
				p.ClearSessionCookie(w)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// logoutEndsBrokerSession decides whether an end_session request signs the
// browser out of the broker too (and so out of every relying party it
// opened). Yes when the relying party proves it is the same user's logout
// (an id_token_hint of a session of the same address, as user_oidc sends),
// or when the request does not come from another site. A bare cross-site
// link to /end_session must not sign people out of everything.
func (p *Provider) logoutEndsBrokerSession(r *http.Request, bs BrokerSession, hintClaims []byte) bool {
	if hintClaims != nil {
		var c struct {
			SID string `json:"sid"`
		}
		if json.Unmarshal(hintClaims, &c) == nil && c.SID != "" {
			if sess, err := p.store.GetSession(r.Context(), c.SID); err == nil {
				return sess.QortalAddress == bs.QortalAddress
			}
		}
	}
	site := r.Header.Get("Sec-Fetch-Site")
	return site == "same-origin" || site == "none"
}

// rpEndingKey marks, in a logout request's context, the relying party
// session (sid) that the relying party itself is ending.
type rpEndingKey struct{}

// ownSessionOfHint returns the sid of a verified id_token_hint when that
// session belongs to the client the hint was issued to: the relying party
// presenting its own ID token is ending its own session.
func (p *Provider) ownSessionOfHint(ctx context.Context, hintClaims []byte) string {
	if hintClaims == nil {
		return ""
	}
	var c struct {
		SID string          `json:"sid"`
		Aud json.RawMessage `json:"aud"`
	}
	if json.Unmarshal(hintClaims, &c) != nil || c.SID == "" {
		return ""
	}
	var auds []string
	if err := json.Unmarshal(c.Aud, &auds); err != nil {
		var one string
		if json.Unmarshal(c.Aud, &one) != nil {
			return ""
		}
		auds = []string{one}
	}
	sess, err := p.store.GetSession(ctx, c.SID)
	if err != nil {
		return ""
	}
	for _, a := range auds {
		if a == sess.ClientID {
			return sess.ID
		}
	}
	return ""
}

// verifiableHint returns the claims of hint when it is a JWS signed by a
// published key.
func (p *Provider) verifiableHint(ctx context.Context, hint string) ([]byte, bool) {
	jws, err := jose.ParseSigned(hint, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, false
	}
	keys, err := p.keys.publicKeys(ctx)
	if err != nil {
		return nil, false
	}
	kid := jws.Signatures[0].Header.KeyID
	for _, k := range keys {
		if k.ID() == kid {
			payload, err := jws.Verify(k.Key())
			return payload, err == nil
		}
	}
	return nil, false
}

func loggedOutHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, "<!doctype html><meta charset=utf-8><title>Signed out</title><p>You are signed out.</p>\n")
}
