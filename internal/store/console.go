package store

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// ConsoleSession is one signed-in administrator of the /admin console. Only
// the SHA-256 of the session token is kept, so a database dump cannot be
// replayed as a cookie. Sessions live in the store (not in a signed cookie)
// so that signing out, or an address being removed from the admin list,
// ends the session on every replica at once.
type ConsoleSession struct {
	TokenHash  string // lowercase hex SHA-256 of the cookie's token
	Address    string // the Qortal address that signed in
	CreatedAt  time.Time
	LastSeenAt time.Time // for the idle timeout
	ExpiresAt  time.Time // absolute end, whatever the activity
}

// ConsoleStore keeps admin console sessions.
type ConsoleStore interface {
	// CreateConsoleSession inserts s and its audit entry in one transaction;
	// ErrExists when the token hash is taken.
	CreateConsoleSession(ctx context.Context, s ConsoleSession, audit AuditEntry) (ConsoleSession, error)
	// GetConsoleSession returns the session whatever its times (callers
	// decide about expiry); ErrNotFound when absent.
	GetConsoleSession(ctx context.Context, tokenHash string) (ConsoleSession, error)
	// TouchConsoleSession moves LastSeenAt forward to at (never back);
	// ErrNotFound when the session is gone.
	TouchConsoleSession(ctx context.Context, tokenHash string, at time.Time) error
	// DeleteConsoleSession removes the session with its audit entry and
	// returns what it was; ErrNotFound when absent.
	DeleteConsoleSession(ctx context.Context, tokenHash string, audit AuditEntry) (ConsoleSession, error)
	// DeleteExpiredConsoleSessions removes sessions whose ExpiresAt is
	// before t or that were last seen before idleBefore.
	DeleteExpiredConsoleSessions(ctx context.Context, t, idleBefore time.Time) (int, error)
}

// CheckConsoleSession validates a new session (both backends call it, so
// they cannot disagree about what is storable).
func CheckConsoleSession(s ConsoleSession) error {
	h := s.TokenHash
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return fmt.Errorf("console session token hash must be 64 lowercase hex digits")
	}
	if s.Address == "" || len(s.Address) > 64 || !utf8.ValidString(s.Address) || strings.ContainsRune(s.Address, 0) {
		return fmt.Errorf("console session address must be 1-64 bytes of UTF-8 without NUL")
	}
	if s.CreatedAt.IsZero() || s.LastSeenAt.IsZero() || s.ExpiresAt.IsZero() {
		return fmt.Errorf("console session times are required")
	}
	if !s.ExpiresAt.After(s.CreatedAt) {
		return fmt.Errorf("console session expires at %s, not after its creation %s", s.ExpiresAt, s.CreatedAt)
	}
	for _, t := range []time.Time{s.CreatedAt, s.LastSeenAt, s.ExpiresAt} {
		if y := t.UTC().Year(); y < 1 || y > 9999 {
			return fmt.Errorf("console session time year %d is outside 1..9999", y)
		}
	}
	return nil
}
