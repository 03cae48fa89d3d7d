package store

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// BrokerSession is the broker's own browser session: the single sign-on
// that lets a user who signed once open further relying parties (and the
// /account page) without signing again. The cookie holds a random token;
// the store keeps only its SHA-256, so a database dump cannot be replayed
// as a cookie. It lives in the store, not in a signed cookie, so that every
// replica sees it and ending it (sign-out, block, unlink) takes effect
// everywhere at once.
type BrokerSession struct {
	ID            string // public handle ("bs_…"): /account lists and ends sessions by it
	TokenHash     string // lowercase hex SHA-256 of the cookie's token
	QortalAddress string
	AuthTime      time.Time // when the address last proved its key in this session
	CreatedAt     time.Time
	LastSeenAt    time.Time
	ExpiresAt     time.Time // absolute end (login.session_ttl after the signature)
	UserAgent     string    // the browser that signed, for the user's own session list
}

// MaxUserAgent bounds the stored user agent; longer ones are cut (at a
// rune boundary) by CheckBrokerSession's caller, never rejected.
const MaxUserAgent = 255

// BrokerSessionStore keeps broker sessions. A login opens one in its own
// transaction (AuthCompletion.NewBrokerSession), so the login's write
// budget is unchanged; a signature that completes no login (an onboarding
// invite's) opens one with CreateBrokerSession.
type BrokerSessionStore interface {
	// CreateBrokerSession inserts s (see CheckBrokerSession). replaces, if
	// set, is the browser's previous broker session: in the same
	// transaction it is deleted and its open OIDC sessions of s's address
	// move to s, as a login's fresh signature does.
	CreateBrokerSession(ctx context.Context, s BrokerSession, replaces string) error
	// GetBrokerSessionByToken returns the session whatever its times
	// (callers decide about expiry); ErrNotFound when absent.
	GetBrokerSessionByToken(ctx context.Context, tokenHash string) (BrokerSession, error)
	// GetBrokerSession returns the session with that public id.
	GetBrokerSession(ctx context.Context, id string) (BrokerSession, error)
	// ListBrokerSessions returns the address's sessions not expired at
	// now, most recently used first.
	ListBrokerSessions(ctx context.Context, address string, now time.Time) ([]BrokerSession, error)
	// TouchBrokerSession moves LastSeenAt forward to at (never back);
	// ErrNotFound when the session is gone.
	TouchBrokerSession(ctx context.Context, id string, at time.Time) error
	// EndBrokerSession deletes the session and ends, in the same
	// transaction, every open OIDC session opened from it (revoking their
	// tokens). It returns those OIDC sessions so the caller can send
	// back-channel logout; ErrNotFound when the broker session is gone, so
	// of concurrent callers exactly one reports the ended sessions.
	EndBrokerSession(ctx context.Context, id string, now time.Time) (BrokerSession, []Session, error)
	// EndAllSessionsForAddress deletes every broker session of the address
	// and ends every open OIDC session of it (whatever opened them),
	// revoking their tokens, in one transaction: sign out everywhere, and
	// what block and unlink do. It returns what it ended.
	EndAllSessionsForAddress(ctx context.Context, address string, now time.Time) ([]BrokerSession, []Session, error)
}

// CheckBrokerSession validates a new session (every backend calls it).
func CheckBrokerSession(s BrokerSession) error {
	if s.ID == "" || len(s.ID) > maxOIDCShort || !utf8.ValidString(s.ID) || strings.ContainsRune(s.ID, 0) {
		return fmt.Errorf("broker session id must be 1-%d bytes of UTF-8 without NUL", maxOIDCShort)
	}
	if h := s.TokenHash; len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return fmt.Errorf("broker session token hash must be 64 lowercase hex digits")
	}
	if err := checkOIDCText("qortal address", s.QortalAddress, 64, true); err != nil {
		return fmt.Errorf("broker session: %w", err)
	}
	if err := checkOIDCText("user agent", s.UserAgent, MaxUserAgent, false); err != nil {
		return fmt.Errorf("broker session: %w", err)
	}
	for _, t := range []time.Time{s.AuthTime, s.CreatedAt, s.LastSeenAt, s.ExpiresAt} {
		if t.IsZero() {
			return fmt.Errorf("broker session times are required")
		}
		if y := t.UTC().Year(); y < 1 || y > 9999 {
			return fmt.Errorf("broker session time year %d is outside 1..9999", y)
		}
	}
	if !s.ExpiresAt.After(s.CreatedAt) {
		return fmt.Errorf("broker session expires at %s, not after its creation %s", s.ExpiresAt, s.CreatedAt)
	}
	return nil
}

// TrimUserAgent cuts a User-Agent header to what a BrokerSession stores.
func TrimUserAgent(ua string) string {
	ua = strings.ToValidUTF8(strings.ReplaceAll(ua, "\x00", ""), "")
	if len(ua) <= MaxUserAgent {
		return ua
	}
	cut := MaxUserAgent
	for cut > 0 && !utf8.RuneStart(ua[cut]) {
		cut--
	}
	return ua[:cut]
}
