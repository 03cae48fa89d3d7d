// Package backend holds the rules every SQL store backend must apply the same
// way (input validation, time precision, page sizes, cursors, search
// patterns), so that the Postgres and SQLite stores cannot drift apart.
package backend

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Page sizes for ListOptions.Limit.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Limit returns the page size to use for a requested limit: the default for
// zero (or a nonsensical negative) and at most MaxLimit.
func Limit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// Time normalises t to what both databases keep: UTC, microseconds.
// Truncate also drops the monotonic reading, so results compare with ==.
func Time(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Now is the store clock, already normalised.
func Now() time.Time { return Time(time.Now()) }

// Field length limits. Nextcloud caps user ids at 64 characters; Qortal
// addresses are 34; the rest are generous bounds that stop abuse.
const (
	maxAddress     = 64
	maxUserID      = 64
	maxDisplayName = 255
	maxEmail       = 254
	maxShort       = 255  // actor, action, subject, purpose, ids
	maxMessage     = 4096 // challenge text
	maxDetail      = 64 << 10
)

func checkText(field, v string, limit int, required bool) error {
	if required && v == "" {
		return fmt.Errorf("%s is required", field)
	}
	if len(v) > limit {
		return fmt.Errorf("%s is longer than %d bytes", field, limit)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s is not valid UTF-8", field)
	}
	if strings.ContainsRune(v, 0) {
		return fmt.Errorf("%s contains a NUL byte", field) // Postgres text cannot hold it
	}
	return nil
}

// checkTime rejects times the TEXT encoding (fixed four-digit years) and
// Postgres would store differently.
func checkTime(field string, t time.Time) error {
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return fmt.Errorf("%s year %d is outside 1..9999", field, y)
	}
	return nil
}

// CheckAddress validates a Qortal address used as a key.
func CheckAddress(a string) error { return checkText("qortal address", a, maxAddress, true) }

// CheckUserID validates a Nextcloud user id used as a key.
func CheckUserID(u string) error { return checkText("nextcloud user id", u, maxUserID, true) }

// CheckMapping validates the fields of m that a create or update writes.
// The user id is only checked when withUser (updates never write it).
func CheckMapping(m store.Mapping, withUser bool) error {
	if err := CheckAddress(m.QortalAddress); err != nil {
		return err
	}
	if withUser {
		if err := CheckUserID(m.NextcloudUserID); err != nil {
			return err
		}
	}
	if err := checkText("display name", m.DisplayName, maxDisplayName, false); err != nil {
		return err
	}
	if err := checkText("email", m.Email, maxEmail, false); err != nil {
		return err
	}
	if !m.Status.Valid() {
		return fmt.Errorf("mapping status %q is not one of linked, invited, blocked", m.Status)
	}
	return nil
}

// Audit validates e and fills what the store sets: At (now, when zero),
// Subject (defaultSubject, when empty), Action (defaultAction, when empty)
// and Detail ("{}", when empty). Every entry must name its actor: an audit
// log that cannot say who did something is worthless.
func Audit(e store.AuditEntry, now time.Time, defaultAction, defaultSubject string) (store.AuditEntry, error) {
	if e.At.IsZero() {
		e.At = now
	}
	e.At = Time(e.At)
	if e.Action == "" {
		e.Action = defaultAction
	}
	if e.Subject == "" {
		e.Subject = defaultSubject
	}
	if e.Detail == "" {
		e.Detail = "{}"
	}
	if err := checkText("audit actor", e.Actor, maxShort, true); err != nil {
		return e, err
	}
	if err := checkText("audit action", e.Action, maxShort, true); err != nil {
		return e, err
	}
	if err := checkText("audit subject", e.Subject, maxShort, false); err != nil {
		return e, err
	}
	if err := checkText("audit detail", e.Detail, maxDetail, true); err != nil {
		return e, err
	}
	if !json.Valid([]byte(e.Detail)) {
		return e, fmt.Errorf("audit detail is not valid JSON")
	}
	if err := checkTime("audit time", e.At); err != nil {
		return e, err
	}
	return e, nil
}

// Challenge validates c and normalises its times; CreatedAt defaults to now.
func Challenge(c store.Challenge, now time.Time) (store.Challenge, error) {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	c.CreatedAt, c.ExpiresAt = Time(c.CreatedAt), Time(c.ExpiresAt)
	if c.UsedAt != nil {
		return c, fmt.Errorf("a new challenge cannot be already used")
	}
	for _, f := range []struct {
		name, v string
		limit   int
		req     bool
	}{
		{"challenge id", c.ID, maxShort, true},
		{"challenge purpose", c.Purpose, maxShort, true},
		{"challenge address", c.QortalAddress, maxAddress, false},
		{"challenge message", c.Message, maxMessage, true},
		{"challenge auth request id", c.AuthRequestID, maxShort, false},
		{"challenge client id", c.ClientID, maxShort, false},
	} {
		if err := checkText(f.name, f.v, f.limit, f.req); err != nil {
			return c, err
		}
	}
	if err := checkTime("challenge creation time", c.CreatedAt); err != nil {
		return c, err
	}
	if err := checkTime("challenge expiry", c.ExpiresAt); err != nil {
		return c, err
	}
	if !c.ExpiresAt.After(c.CreatedAt) {
		return c, fmt.Errorf("challenge expires at %s, not after its creation %s", c.ExpiresAt, c.CreatedAt)
	}
	return c, nil
}

// LikePattern turns a search term into a LIKE pattern for a case-insensitive
// substring match against lower(column), with '\' as the escape character so
// that % and _ in the term match themselves.
func LikePattern(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(q)) + "%"
}

// CheckQuery validates a search term.
func CheckQuery(q string) error { return checkText("search term", q, maxShort, false) }
