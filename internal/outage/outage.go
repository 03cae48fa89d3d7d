// Package outage is the broker's one fault model for store outages: whatever
// endpoint a request hit, if the store could not be reached while it was
// served and the handler answered with an error, the client gets the
// documented "temporarily unavailable" answer for that kind of endpoint
// instead of a 400 or 500 that blames the request or hides the cause:
//
//   - OAuth JSON endpoints (/token, /userinfo, /introspect, /revoke): 503,
//     Retry-After, {"error":"temporarily_unavailable","error_description":…};
//   - redirects to a relying party carrying error=server_error or
//     invalid_request: the same redirect with error=temporarily_unavailable
//     (the redirect URI was already checked against the client, or op would
//     not redirect);
//   - JSON APIs (login, console, admin): 503, Retry-After,
//     {"error":{"code":"unavailable",…}};
//   - browser pages (/authorize when the redirect URI cannot be trusted yet,
//     the callback, login and console pages): a 503 page with Retry-After.
//
// Handlers keep mapping store.ErrUnavailable themselves where they can (the
// services answer 503 "unavailable"); this middleware is the safety net for
// code it does not own, chiefly zitadel's op, which turns every storage error
// into 400 invalid_request or 500 server_error.
//
// Detection needs no cooperation from handlers: the store counts every
// error it classifies as unavailable (store.FaultCounter), and a request is
// considered hit by an outage when the count moved while it was served. Under
// concurrency that can also catch a request that failed for its own reasons
// during an outage; answering "retry shortly" then is still true.
package outage

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
)

// RetryAfter is what every outage answer tells clients to wait. A Postgres
// restart or failover is typically over within it.
const RetryAfter = 2 * time.Second

// Counter is the store's running count of unavailable errors
// (store.FaultCounter).
type Counter interface {
	UnavailableEvents() uint64
}

// Config says how to answer on which paths.
type Config struct {
	// Store counts outages; nil disables rewriting (Retry-After is still
	// added to 503 answers).
	Store Counter
	// OAuthJSON lists the exact paths answered in the OAuth error shape.
	OAuthJSON []string
}

// Middleware applies the fault model to next.
func Middleware(cfg Config, next http.Handler) http.Handler {
	oauth := make(map[string]bool, len(cfg.OAuthJSON))
	for _, p := range cfg.OAuthJSON {
		oauth[p] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fw := &faultWriter{ResponseWriter: w, kind: kindOf(r.URL.Path, oauth), counter: cfg.Store}
		if cfg.Store != nil {
			fw.start = cfg.Store.UnavailableEvents()
		}
		next.ServeHTTP(fw, r)
		fw.finish()
	})
}

type kind int

const (
	kindPage kind = iota
	kindOAuth
	kindIntrospect
)

func kindOf(path string, oauth map[string]bool) kind {
	switch {
	case path == "/introspect" && oauth[path]:
		return kindIntrospect
	case oauth[path]:
		return kindOAuth
	}
	return kindPage
}

// faultWriter decides at WriteHeader time, when the handler has made (and
// failed) its store calls, whether to let the answer through.
type faultWriter struct {
	http.ResponseWriter
	kind    kind
	counter Counter
	start   uint64

	decided  bool
	replaced bool // the handler's body is dropped
	// introspection answers 200 {"active":false} when it cannot look the
	// token up; it is held back until it is known whether that was an outage.
	held    bool
	heldBuf bytes.Buffer
	status  int
}

func (w *faultWriter) hit() bool {
	return w.counter != nil && w.counter.UnavailableEvents() != w.start
}

func (w *faultWriter) WriteHeader(code int) {
	if w.decided {
		return
	}
	w.decided = true
	w.status = code
	h := w.Header()
	switch {
	case code == http.StatusServiceUnavailable:
		if h.Get("Retry-After") == "" {
			h.Set("Retry-After", retryAfterSeconds())
		}
	case code >= 400 && w.hit():
		w.replaced = true
		w.writeFault()
		return
	case code >= 300 && code < 400 && w.hit():
		if loc, ok := rewriteLocation(h.Get("Location")); ok {
			h.Set("Location", loc)
		}
	case code == http.StatusOK && w.kind == kindIntrospect && w.counter != nil:
		w.held = true
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *faultWriter) Write(b []byte) (int, error) {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	switch {
	case w.replaced:
		return len(b), nil
	case w.held:
		return w.heldBuf.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// finish releases a held introspection answer.
func (w *faultWriter) finish() {
	if !w.held {
		return
	}
	var resp struct {
		Active bool `json:"active"`
	}
	if json.Unmarshal(w.heldBuf.Bytes(), &resp) == nil && !resp.Active && w.hit() {
		w.writeFault()
		return
	}
	w.ResponseWriter.WriteHeader(w.status)
	_, _ = w.ResponseWriter.Write(w.heldBuf.Bytes())
}

// RecordError forwards apierror's hook to the access log's writer, which
// then logs the cause of an answer even when it was replaced.
func (w *faultWriter) RecordError(e *apierror.Error) {
	if r, ok := w.ResponseWriter.(interface{ RecordError(*apierror.Error) }); ok {
		r.RecordError(e)
	}
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (w *faultWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

const (
	oauthDescription = "the authorization server's database is temporarily unavailable; retry shortly"
	apiMessage       = "the service is temporarily unavailable, please retry"
)

func retryAfterSeconds() string { return strconv.Itoa(int(RetryAfter / time.Second)) }

func (w *faultWriter) writeFault() {
	h := w.Header()
	for _, k := range []string{"Content-Length", "Content-Encoding", "Location", "ETag", "Last-Modified", "WWW-Authenticate"} {
		h.Del(k)
	}
	h.Set("Retry-After", retryAfterSeconds())
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	var body []byte
	switch {
	case w.kind != kindPage:
		h.Set("Content-Type", "application/json; charset=utf-8")
		body, _ = json.Marshal(map[string]string{"error": "temporarily_unavailable", "error_description": oauthDescription})
	case wantsJSON(h.Get("Content-Type")):
		h.Set("Content-Type", "application/json; charset=utf-8")
		var b struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		b.Error.Code, b.Error.Message = "unavailable", apiMessage
		body, _ = json.Marshal(b)
	default:
		h.Set("Content-Type", "text/html; charset=utf-8")
		body = []byte(page)
	}
	w.ResponseWriter.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.ResponseWriter.Write(append(body, '\n'))
}

func wantsJSON(contentType string) bool {
	return strings.HasPrefix(contentType, "application/json") || strings.HasPrefix(contentType, "application/problem+json")
}

// rewriteLocation turns an error redirect caused by the outage into
// temporarily_unavailable (RFC 6749 4.1.2.1), keeping state and iss. Only
// errors a store failure produces are rewritten: an access_denied the user
// chose stays one.
func rewriteLocation(loc string) (string, bool) {
	u, err := url.Parse(loc)
	if err != nil || u.RawQuery == "" {
		return "", false
	}
	q := u.Query()
	switch q.Get("error") {
	case "server_error", "invalid_request":
	default:
		return "", false
	}
	q.Set("error", "temporarily_unavailable")
	q.Set("error_description", oauthDescription)
	u.RawQuery = q.Encode()
	return u.String(), true
}

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Temporarily unavailable</title></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem">
<h1>Temporarily unavailable</h1>
<p>Sign-in is briefly unavailable because the service cannot reach its database. Nothing was changed.</p>
<p>Wait a few seconds, then go back to the application you came from and sign in again.</p>
</body></html>`
