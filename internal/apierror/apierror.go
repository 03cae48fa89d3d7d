// Package apierror is the one error shape every JSON endpoint answers with:
// {"error":{"code","message"}} and a precise HTTP status. Services return
// *Error for expected failures; anything else becomes a 500 whose detail
// stays in the log.
package apierror

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Error is an expected, user-facing failure.
type Error struct {
	Status  int    // HTTP status
	Code    string // stable machine-readable code
	Message string // human-readable, safe to show (never secrets)
	Err     error  // underlying cause, for logs only
	// RetryAfter, when positive, is sent as a Retry-After header (whole
	// seconds, rounded up): the failure is temporary.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New builds an Error.
func New(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap builds an Error that keeps cause for the logs.
func Wrap(cause error, status int, code, format string, args ...any) *Error {
	e := New(status, code, format, args...)
	e.Err = cause
	return e
}

// Unavailable is the answer for a store (or other dependency) outage: 503
// "unavailable", which Write sends with a Retry-After.
func Unavailable(cause error) *Error {
	return Wrap(cause, http.StatusServiceUnavailable, "unavailable", "the service is temporarily unavailable, please retry")
}

// RetryAfterSeconds is the Retry-After sent with every 503: a Postgres
// restart or failover is typically over by then.
const RetryAfterSeconds = "2"

// Common constructors.
func BadRequest(code, format string, args ...any) *Error {
	return New(http.StatusBadRequest, code, format, args...)
}
func NotFound(code, format string, args ...any) *Error {
	return New(http.StatusNotFound, code, format, args...)
}
func Conflict(code, format string, args ...any) *Error {
	return New(http.StatusConflict, code, format, args...)
}

type body struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// As extracts an *Error, turning anything unexpected into a generic 500 so
// internal details never reach clients.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: http.StatusInternalServerError, Code: "internal_error", Message: "internal error; see the broker log", Err: err}
}

// Write sends err as JSON.
func Write(w http.ResponseWriter, err error) *Error {
	e := As(err)
	if r, ok := w.(interface{ RecordError(*Error) }); ok {
		r.RecordError(e) // the access log names the cause of 5xx answers
	}
	var b body
	b.Error.Code, b.Error.Message = e.Code, e.Message
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case e.RetryAfter > 0:
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	case e.Status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "":
		w.Header().Set("Retry-After", RetryAfterSeconds)
	}
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(b)
	return e
}

// WriteJSON sends v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
