package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// AuditAPI serves GET /api/audit: the audit log, newest first.
type AuditAPI struct {
	Store store.AuditStore
	Auth  *AdminAuth
}

// Register mounts the route on r.
func (a *AuditAPI) Register(r *mux.Router) {
	r.Handle("/api/audit", a.Auth.Middleware(http.HandlerFunc(a.list))).Methods(http.MethodGet)
}

// AuditJSON is an audit entry as the API shows it.
type AuditJSON struct {
	ID      int64           `json:"id"`
	At      time.Time       `json:"at"`
	Actor   string          `json:"actor"`
	Action  string          `json:"action"`
	Subject string          `json:"subject,omitempty"`
	Detail  json.RawMessage `json:"detail"`
}

func (a *AuditAPI) list(w http.ResponseWriter, r *http.Request) {
	opts, err := listOptions(r)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	page, err := a.Store.ListAudit(r.Context(), opts)
	if err != nil {
		apierror.Write(w, listErr(err))
		return
	}
	out := struct {
		Entries    []AuditJSON `json:"entries"`
		NextCursor string      `json:"nextCursor,omitempty"`
	}{Entries: make([]AuditJSON, 0, len(page.Entries)), NextCursor: page.NextCursor}
	for _, e := range page.Entries {
		detail := json.RawMessage(e.Detail)
		if !json.Valid(detail) {
			detail = json.RawMessage("{}")
		}
		out.Entries = append(out.Entries, AuditJSON{e.ID, e.At, e.Actor, e.Action, e.Subject, detail})
	}
	apierror.WriteJSON(w, http.StatusOK, out)
}

// listOptions reads limit (1-500), cursor and q of a listing.
func listOptions(r *http.Request) (store.ListOptions, error) {
	q := r.URL.Query()
	opts := store.ListOptions{Cursor: q.Get("cursor"), Query: q.Get("q")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return opts, apierror.BadRequest("invalid_limit", "limit must be an integer between 1 and 500")
		}
		opts.Limit = n
	}
	if len(opts.Query) > 200 {
		return opts, apierror.BadRequest("invalid_query", "q must be at most 200 characters")
	}
	return opts, nil
}

// listErr maps the store's listing errors for handlers that call a store
// directly.
func listErr(err error) error {
	switch {
	case errors.Is(err, store.ErrInvalidCursor):
		return apierror.BadRequest("invalid_cursor", "cursor is not one this API returned")
	case errors.Is(err, store.ErrUnavailable):
		return apierror.Unavailable(err)
	}
	return err
}

// decodeOptional decodes a JSON body when there is one.
func decodeOptional(r *http.Request, v any) error {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil
	}
	return apierror.DecodeJSON(r, v, 0)
}

func optTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
