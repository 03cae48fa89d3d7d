package nextcloud

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Kinds of failure; every *Error unwraps to exactly one of them.
var (
	ErrExists       = errors.New("already exists")
	ErrNotFound     = errors.New("not found")
	ErrUnauthorized = errors.New("unauthorized")
	ErrUnreachable  = errors.New("unreachable")
	// ErrUnavailable is HTTP 503: maintenance mode (OCS 503 "Service
	// unavailable") or an overloaded proxy. Retry later.
	ErrUnavailable    = errors.New("temporarily unavailable")
	ErrRateLimited    = errors.New("rate limited")
	ErrPolicyRejected = errors.New("rejected by policy")
	ErrInvalid        = errors.New("invalid")
	ErrUnexpected     = errors.New("unexpected response")
)

// Error is a failed OCS call. It never carries secrets: messages coming from
// the server are cut short and scrubbed of the credentials in use.
type Error struct {
	Op         string
	Kind       error
	HTTPStatus int // 0 when no response arrived
	OCSStatus  int // ocs.meta.statuscode, 0 when the body was not OCS
	Message    string
	RetryAfter time.Duration // from a 429's Retry-After, 0 when absent
	cause      error         // transport error, for errors.Is(err, context.Canceled)
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nextcloud %s: %v", e.Op, e.Kind)
	if e.HTTPStatus != 0 || e.OCSStatus != 0 {
		fmt.Fprintf(&b, " (HTTP %d, OCS %d)", e.HTTPStatus, e.OCSStatus)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " retry after %s", e.RetryAfter)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Unwrap returns the Kind, so errors.Is(err, ErrNotFound) works.
func (e *Error) Unwrap() error { return e.Kind }

// Is lets errors.Is see through to the transport cause (context errors).
func (e *Error) Is(target error) bool { return e.cause != nil && errors.Is(e.cause, target) }

// outcome names a result for the Observe hook.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrExists):
		return "exists"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrUnauthorized):
		return "unauthorized"
	case errors.Is(err, ErrUnreachable):
		return "unreachable"
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	case errors.Is(err, ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, ErrPolicyRejected):
		return "policy_rejected"
	case errors.Is(err, ErrInvalid):
		return "invalid"
	}
	return "error"
}

const maxMessage = 200

// clean makes server-supplied text safe to put in errors and logs: control
// characters go, length is capped, and any secret in use is blanked out.
func clean(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > maxMessage {
		s = string(r[:maxMessage]) + "…"
	}
	return s
}
