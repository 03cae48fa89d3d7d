package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

type auditView struct {
	Query, Cursor string
	Entries       []store.AuditEntry
	Next, First   string
}

// audit pages the audit log, newest first; q filters by actor, action or
// subject.
func (h *Handler) audit(w http.ResponseWriter, r *http.Request, s *session) {
	v := h.pageFor(w, r, s, "Audit log", "audit")
	q := r.URL.Query()
	d := auditView{Query: strings.TrimSpace(q.Get("q")), Cursor: q.Get("cursor")}
	status := http.StatusOK
	if len(d.Query) > 200 {
		status = showError(&v, apierror.BadRequest("invalid_query", "the search must be at most 200 characters"))
		d.Query = ""
	}
	page, err := h.d.Store.ListAudit(r.Context(), store.ListOptions{Limit: h.pageSize, Cursor: d.Cursor, Query: d.Query})
	switch {
	case errors.Is(err, store.ErrInvalidCursor):
		status = showError(&v, apierror.BadRequest("invalid_cursor", "that page link is not valid: start from the newest entries"))
	case errors.Is(err, store.ErrUnavailable):
		status = showError(&v, apierror.Unavailable(nil))
	case err != nil:
		h.fail(w, r, err)
		return
	}
	d.Entries = page.Entries
	d.Next, d.First = h.pager("/audit", url.Values{"q": {d.Query}}, d.Cursor, page.NextCursor)
	v.D = d
	h.render(w, r, status, "audit.html", v)
}
