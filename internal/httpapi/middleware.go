// Package httpapi holds the broker's HTTP plumbing (request ids, access
// logs, metrics, panic recovery, admin authentication) and the admin JSON
// API handlers. Handlers only decode, call a service and encode.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/logging"
	"github.com/qortal-oidc/qortal-oidc/internal/metrics"
)

type ctxKey int

const (
	routeKey ctxKey = iota + 1
)

// RequestID returns the id the middleware gave this request.
func RequestID(ctx context.Context) string { return logging.RequestID(ctx) }

// routeHolder lets the router's inner middleware tell the outer one which
// route template matched, so metrics are labelled by template (bounded
// cardinality), never by raw path.
type routeHolder struct{ template string }

// CaptureRoute is installed with router.Use; it records the matched template.
func CaptureRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := r.Context().Value(routeKey).(*routeHolder); ok {
			if cur := mux.CurrentRoute(r); cur != nil {
				if t, err := cur.GetPathTemplate(); err == nil {
					h.template = t
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
	err    *apierror.Error
}

// RecordError keeps the error apierror.Write answered with, so the access
// log can say why a request failed: clients only see "see the broker log".
func (w *statusWriter) RecordError(e *apierror.Error) { w.err = e }

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Observe wraps the whole handler: request id, panic recovery, access log
// and metrics. The log line carries the path only, never the query string,
// which can hold tokens (id_token_hint, codes).
func Observe(log *slog.Logger, m *metrics.Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		holder := &routeHolder{template: "unmatched"}
		ctx := context.WithValue(logging.WithRequestID(r.Context(), id), routeKey, holder)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(ctx, "panic in handler", "request_id", id, "panic", p)
				if sw.status == 0 {
					apierror.Write(sw, nil)
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			d := time.Since(start)
			m.HTTPRequests.WithLabelValues(holder.template, r.Method, statusClass(status)).Inc()
			m.HTTPDuration.WithLabelValues(holder.template, r.Method).Observe(d.Seconds())
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelWarn
			}
			if !log.Enabled(ctx, level) {
				return // the line would be dropped: do not build it
			}
			path := r.URL.Path
			if strings.Contains(holder.template, "{token}") {
				path = holder.template // the path itself is a secret (an invite link)
			}
			attrs := []any{"request_id", id, "method", r.Method, "path", path,
				"route", holder.template, "status", status, "bytes", sw.bytes, "duration_ms", float64(d.Microseconds()) / 1000}
			if status >= 500 && sw.err != nil && sw.err.Err != nil {
				// Causes are safe to log: Nextcloud errors are scrubbed of
				// credentials and store errors never carry the DSN password.
				attrs = append(attrs, "error_code", sw.err.Code, "err", sw.err.Err.Error())
			}
			log.Log(ctx, level, "http request", attrs...)
		}()
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}

func statusClass(code int) string {
	// Exact codes are useful and bounded: the broker answers a small set.
	return strconv.Itoa(code)
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
