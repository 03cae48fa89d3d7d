package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/ratelimit"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

const (
	// maxBodyBytes fits the largest signed MESSAGE transaction in Base58
	// (about 6 KB) with room to spare.
	maxBodyBytes = 32 << 10
	// maxIDLen bounds ids before they reach the store.
	maxIDLen = 128
	// maxAuthRequestIDLen bounds auth request ids: a sealed one carries
	// the request (oidcprovider sealedrequest.go, at most 1024 bytes).
	maxAuthRequestIDLen = 1024
)

// apiError is the JSON error body {"error":{"code","message"}} plus, for
// refusals the page should show on its own page, "redirectTo".
type apiError struct {
	status     int
	Code       string
	Message    string
	RedirectTo string
	retryAfter time.Duration
	// page is what a person reads when this error ends a page rather than
	// an API call: Message is for developers, page says what happened and
	// what to do.
	page *pageText
}

// pageText is an error page's wording.
type pageText struct{ heading, message, hint string }

// onPage sets the wording of the error page that e ends in.
func (e *apiError) onPage(heading, message, hint string) *apiError {
	e.page = &pageText{heading, message, hint}
	return e
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newErr(status int, code, msg string) *apiError {
	return &apiError{status: status, Code: code, Message: msg}
}

func errInvalid(msg string) *apiError { return newErr(http.StatusBadRequest, "invalid_request", msg) }
func errAuthRequestGone(msg string) *apiError {
	return newErr(http.StatusGone, "auth_request_expired", msg)
}

// errSignInExpired is an auth request that is unknown or past its time:
// for the person, both mean the link is too old.
func errSignInExpired(msg string) *apiError {
	return errAuthRequestGone(msg).onPage(
		"This sign-in has expired",
		"Sign-in links work for a few minutes and only once, and this one is no longer valid.",
		"Go back to the app (for example Nextcloud) and start signing in again.")
}

func (h *Handler) internal(ctx context.Context, what string, err error) *apiError {
	if errors.Is(err, store.ErrUnavailable) {
		h.log.ErrorContext(ctx, what, "err", err)
		return newErr(http.StatusServiceUnavailable, "unavailable", "the service is temporarily unavailable, please retry")
	}
	h.log.ErrorContext(ctx, what, "err", err)
	return newErr(http.StatusInternalServerError, "internal", "internal error")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	setAPIHeaders(w.Header())
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.retryAfter.Seconds()))))
	}
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	out := struct {
		Error      body   `json:"error"`
		RedirectTo string `json:"redirectTo,omitempty"`
	}{body{e.Code, e.Message}, e.RedirectTo}
	writeJSON(w, e.status, out)
}

// decodeJSON is apierror.DecodeJSON (the broker's one JSON decoding rule)
// with the answer in the login API's error type.
func decodeJSON(_ http.ResponseWriter, r *http.Request, v any) *apiError {
	if err := apierror.DecodeJSON(r, v, maxBodyBytes); err != nil {
		e := apierror.As(err)
		return newErr(e.Status, e.Code, e.Message)
	}
	return nil
}

// limit charges one request to key in l.
func limit(ctx context.Context, l ratelimit.Limiter, key, what string) *apiError {
	if ok, retry := l.Allow(ctx, key); !ok {
		e := newErr(http.StatusTooManyRequests, "rate_limited",
			fmt.Sprintf("too many attempts %s: wait %d seconds and try again", what, int(math.Ceil(retry.Seconds()))))
		e.retryAfter = retry
		return e
	}
	return nil
}

// clientIP is the key per-IP rate limits use (see ratelimit.ClientKey).
func (h *Handler) clientIP(r *http.Request) string {
	return ratelimit.ClientKey(r, h.trustProxy)
}

// setAPIHeaders applies to every login response.
func setAPIHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}
