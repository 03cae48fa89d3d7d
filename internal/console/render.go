package console

import (
	"bytes"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/web"
)

// pageCSP allows only the broker's own files: no inline code, no framing,
// forms only to this origin.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

const flashCookie = "qortal_oidc_admin_flash"

// view is what every console template receives; D is the page's own data.
type view struct {
	Title      string
	Nav        string // the active section
	Base       string
	IssuerHost string
	Admin      string // the signed-in address, "" on sign-in pages
	CSRF       string
	Flash      string
	Error      string
	ErrorCode  string
	// Account marks the users' /account pages (their own header).
	Account bool
	D       any
}

func (h *Handler) view(title, nav string) view {
	return view{Title: title, Nav: nav, Base: h.base, IssuerHost: host(h.issuer)}
}

// pageFor is a view for a signed-in page, with the flash message (if any)
// taken from its cookie.
func (h *Handler) pageFor(w http.ResponseWriter, r *http.Request, s *session, title, nav string) view {
	v := h.view(title, nav)
	v.Admin, v.CSRF = s.Address, s.CSRF
	if c, err := r.Cookie(flashCookie); err == nil {
		h.clearCookie(w, flashCookie)
		if text, mac, ok := strings.Cut(c.Value, "."); ok {
			if b, err := base64.RawURLEncoding.DecodeString(text); err == nil && validToken(mac, derive(s.token, "flash:"+string(b))) {
				v.Flash = string(b)
			}
		}
	}
	return v
}

// done ends a successful POST: the message is carried to the next page in
// a short-lived cookie MAC'ed with the session, and the browser is sent on
// with 303 so reloading does not repeat the action.
func (h *Handler) done(w http.ResponseWriter, r *http.Request, s *session, to, msg string) {
	if msg != "" {
		val := base64.RawURLEncoding.EncodeToString([]byte(msg)) + "." + derive(s.token, "flash:"+msg)
		h.setCookie(w, flashCookie, val, 60)
	}
	setHeaders(w.Header())
	http.Redirect(w, r, h.path(to), http.StatusSeeOther)
}

// showError puts a service error on the view and returns its status.
func showError(v *view, err error) int {
	e := apierror.As(err)
	v.Error, v.ErrorCode = e.Message, e.Code
	return e.Status
}

// showErrors explains a failed action (actionErr) or, when the action did
// not fail, a failure to load the page's data; it returns the status to
// answer with.
func showErrors(v *view, status int, actionErr, loadErr error) int {
	if actionErr != nil {
		return showError(v, actionErr)
	}
	if loadErr != nil {
		return showError(v, loadErr)
	}
	return status
}

func loadPages(funcs template.FuncMap) (*template.Template, error) {
	return template.New("admin").Funcs(funcs).ParseFS(web.Templates(), "admin/*.html")
}

func (h *Handler) funcs() template.FuncMap {
	return template.FuncMap{
		"asset": h.assetURL,
		"path":  h.path,
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		},
		"whenp": func(t *time.Time) string {
			if t == nil {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"join":    strings.Join,
		"short": func(a string) string {
			if len(a) <= 14 {
				return a
			}
			return a[:6] + "…" + a[len(a)-4:]
		},
		"dur": func(d time.Duration) string {
			if d%(24*time.Hour) == 0 {
				return strconv.Itoa(int(d/(24*time.Hour))) + " days"
			}
			if d%time.Hour == 0 {
				return strconv.Itoa(int(d/time.Hour)) + " hours"
			}
			return d.String()
		},
		"eq2":     func(a, b any) bool { return a == b },
		"details": auditDetails,
	}
}

// render writes a page with the console's security headers.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	var buf bytes.Buffer
	if err := h.pages.ExecuteTemplate(&buf, name, v); err != nil {
		h.log.ErrorContext(r.Context(), "console: render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	setHeaders(hd)
	hd.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// setHeaders applies to every console response. Referrer-Policy is
// same-origin (not no-referrer) so browsers send Origin on our form posts.
func setHeaders(hd http.Header) {
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", pageCSP)
}

// forbidden refuses a request that failed the CSRF or origin checks.
func (h *Handler) forbidden(w http.ResponseWriter, r *http.Request, reason string) {
	h.log.WarnContext(r.Context(), "console: request refused", "reason", reason, "path", r.URL.Path)
	v := h.view("Request refused", "")
	v.Error = "Request refused: " + reason + "."
	h.render(w, r, http.StatusForbidden, "error.html", v)
}

func (h *Handler) tooMany(w http.ResponseWriter, r *http.Request, retry time.Duration, what string) {
	w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(retry)))
	v := h.view("Too many attempts", "")
	v.Error = "Too many sign-in attempts " + what + ": wait " + strconv.Itoa(retrySeconds(retry)) + " seconds and try again."
	h.render(w, r, http.StatusTooManyRequests, "error.html", v)
}

// fail reports an unexpected error without its details (they go to the log).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrUnavailable) {
		err = apierror.Unavailable(err)
	}
	e := apierror.As(err)
	if e.Status >= 500 {
		h.log.ErrorContext(r.Context(), "console: request failed", "path", r.URL.Path, "err", err)
	}
	var ae *apierror.Error
	v := h.view("Something went wrong", "")
	v.Error = e.Message
	if !errors.As(err, &ae) {
		v.Error = "Internal error; see the broker log."
	}
	h.render(w, r, e.Status, "error.html", v)
}
