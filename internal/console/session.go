package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

const (
	// sessionCookie holds the session token; preCookie binds the sign-in
	// forms to this browser before there is a session.
	sessionCookie = "qortal_oidc_admin"
	preCookie     = "qortal_oidc_admin_signin"
	// touchEvery limits last-seen writes to one a minute per session.
	touchEvery = time.Minute
	// maxFormBytes bounds every form body (the campaign form with its four
	// templates is the largest).
	maxFormBytes = 256 << 10
)

// session is a signed-in admin, as handlers see it.
type session struct {
	Address string
	token   string // the cookie value; never logged or rendered
	hash    string
	CSRF    string
}

// Actor is the audit name of the admin.
func (s *session) Actor() string { return "admin:" + s.Address }

type handlerFunc func(w http.ResponseWriter, r *http.Request, s *session)

// admin wraps a page: it requires a live session and, for POSTs, a
// same-origin request carrying the session's CSRF token.
func (h *Handler) admin(next handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if reason := h.crossOrigin(r); reason != "" {
				h.forbidden(w, r, reason)
				return
			}
		}
		s, why := h.loadSession(r)
		if s == nil {
			h.clearCookie(w, sessionCookie)
			to := h.path("/signin")
			if why != "" {
				to += "?" + url.Values{"why": {why}}.Encode()
			}
			setHeaders(w.Header())
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				h.forbidden(w, r, "the form could not be read")
				return
			}
			if !validToken(r.PostForm.Get("csrf"), s.CSRF) {
				h.forbidden(w, r, "the form's security token is missing or wrong: reload the page and try again")
				return
			}
		}
		next(w, r, s)
	}
}

// loadSession returns the session of the request's cookie, or nil and a
// reason code for the sign-in page ("" when there was no session at all).
func (h *Handler) loadSession(r *http.Request) (*session, string) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, ""
	}
	ctx := r.Context()
	hash := hashToken(c.Value)
	cs, err := h.d.Store.GetConsoleSession(ctx, hash)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, "ended"
	case err != nil:
		h.log.ErrorContext(ctx, "console: load session", "err", err)
		return nil, "unavailable"
	}
	now := h.now()
	why := ""
	switch {
	case !now.Before(cs.ExpiresAt):
		why = "expired"
	case now.Sub(cs.LastSeenAt) >= h.idle:
		why = "idle"
	case !h.isAdmin(cs.Address):
		why = "revoked"
	}
	if why != "" {
		h.endSession(ctx, hash, cs.Address, why)
		return nil, why
	}
	if now.Sub(cs.LastSeenAt) >= touchEvery {
		if err := h.d.Store.TouchConsoleSession(ctx, hash, now); err != nil {
			h.log.WarnContext(ctx, "console: touch session", "err", err)
		}
	}
	return &session{Address: cs.Address, token: c.Value, hash: hash, CSRF: derive(c.Value, "csrf")}, ""
}

// endSession deletes a session the console found over; failures only cost
// a row the sweeper removes later.
func (h *Handler) endSession(ctx context.Context, hash, address, why string) {
	_, err := h.d.Store.DeleteConsoleSession(ctx, hash, store.AuditEntry{
		Actor: "admin:" + address, Action: "admin.session_end", Subject: address, Detail: fmt.Sprintf(`{"reason":%q}`, why),
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.log.WarnContext(ctx, "console: end session", "err", err)
	}
}

// startSession creates a session for address and sets its cookie.
func (h *Handler) startSession(ctx context.Context, w http.ResponseWriter, address string, detail string) error {
	token, err := randomToken()
	if err != nil {
		return err
	}
	now := h.now()
	_, err = h.d.Store.CreateConsoleSession(ctx, store.ConsoleSession{
		TokenHash: hashToken(token), Address: address, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(h.sessionTTL),
	}, store.AuditEntry{Actor: "admin:" + address, Action: "admin.signin", Subject: address, Detail: detail})
	if err != nil {
		return fmt.Errorf("create console session: %w", err)
	}
	// No Max-Age: the cookie ends with the browser, the session in the store
	// ends at its own expiry whichever comes first.
	h.setCookie(w, sessionCookie, token, 0)
	return nil
}

func (h *Handler) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: h.base, MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteStrictMode,
	})
}

func (h *Handler) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: h.base, MaxAge: -1,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteStrictMode,
	})
}

// crossOrigin returns why a POST is refused as cross-site, or "". The
// pages send Referrer-Policy same-origin, so browsers send Origin (and
// Referer) on their own form posts; a request with neither is refused too,
// since no browser submitting our forms omits both.
func (h *Handler) crossOrigin(r *http.Request) string {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return "the request came from another site (" + site + ")"
	}
	if o := r.Header.Get("Origin"); o != "" {
		if o != h.origin {
			return "the request came from another origin"
		}
		return ""
	}
	ref := r.Header.Get("Referer")
	if ref == "" {
		return "the request has neither an Origin nor a Referer header"
	}
	if ref != h.origin && !strings.HasPrefix(ref, h.origin+"/") {
		return "the request came from another page than this console"
	}
	return ""
}

// derive makes a per-purpose token from a secret token (the session's, or
// the sign-in cookie's): knowing a derived value reveals nothing of the
// cookie, and it changes with every session.
func derive(secret, purpose string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("qortal-oidc console " + purpose))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func validToken(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// randomToken is 256 random bits, URL-safe.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
