package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

type mappingsView struct {
	Query    string
	Cursor   string
	Mappings []store.Mapping
	Next     string // URL of the next page, "" on the last
	First    string // URL of the first page when not on it
	// The link form, refilled after a failure.
	LinkAddress, LinkUser string
}

func (h *Handler) mappings(w http.ResponseWriter, r *http.Request, s *session) {
	h.showMappings(w, r, s, http.StatusOK, nil, "", "")
}

// showMappings renders the mappings page; err is a failed action to explain.
func (h *Handler) showMappings(w http.ResponseWriter, r *http.Request, s *session, status int, err error, addr, uid string) {
	v := h.pageFor(w, r, s, "Mappings", "mappings")
	q := r.URL.Query()
	d := mappingsView{Query: strings.TrimSpace(q.Get("q")), Cursor: q.Get("cursor"), LinkAddress: addr, LinkUser: uid}
	page, lerr := h.d.Provision.List(r.Context(), store.ListOptions{Limit: h.pageSize, Cursor: d.Cursor, Query: d.Query})
	status = showErrors(&v, status, err, lerr)
	d.Mappings = page.Mappings
	d.Next, d.First = h.pager("/mappings", url.Values{"q": {d.Query}}, d.Cursor, page.NextCursor)
	v.D = d
	h.render(w, r, status, "mappings.html", v)
}

// pager builds next/first page links that keep the filters.
func (h *Handler) pager(p string, keep url.Values, cursor, next string) (nextURL, firstURL string) {
	q := url.Values{}
	for k, vs := range keep {
		if len(vs) > 0 && vs[0] != "" {
			q.Set(k, vs[0])
		}
	}
	link := func(c string) string {
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		if c != "" {
			qq.Set("cursor", c)
		}
		if e := qq.Encode(); e != "" {
			return h.path(p) + "?" + e
		}
		return h.path(p)
	}
	if next != "" {
		nextURL = link(next)
	}
	if cursor != "" {
		firstURL = link("")
	}
	return nextURL, firstURL
}

// back is where a mapping action returns to: the listing it came from.
func back(r *http.Request, p string) string {
	q := url.Values{}
	if v := strings.TrimSpace(r.PostForm.Get("q")); v != "" {
		q.Set("q", v)
	}
	if c := r.PostForm.Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	if e := q.Encode(); e != "" {
		return p + "?" + e
	}
	return p
}

func (h *Handler) mappingLink(w http.ResponseWriter, r *http.Request, s *session) {
	addr := strings.TrimSpace(r.PostForm.Get("address"))
	uid := strings.TrimSpace(r.PostForm.Get("userId"))
	m, err := h.d.Provision.Link(r.Context(), s.Actor(), addr, uid)
	if err != nil {
		h.showMappings(w, r, s, 0, err, addr, uid)
		return
	}
	h.done(w, r, s, "/mappings?"+url.Values{"q": {m.QortalAddress}}.Encode(),
		"Linked "+m.QortalAddress+" to Nextcloud user "+m.NextcloudUserID+".")
}

func (h *Handler) mappingUnlink(w http.ResponseWriter, r *http.Request, s *session) {
	m, err := h.d.Provision.Unlink(r.Context(), s.Actor(), strings.TrimSpace(r.PostForm.Get("address")))
	if err != nil {
		h.showMappings(w, r, s, 0, err, "", "")
		return
	}
	h.done(w, r, s, back(r, "/mappings"), "Unlinked "+m.QortalAddress+" from Nextcloud user "+m.NextcloudUserID+
		" and ended its sessions. The Nextcloud account is kept, and app passwords of its desktop and mobile clients keep working: block before unlinking to stop those.")
}

func (h *Handler) mappingStatus(w http.ResponseWriter, r *http.Request, s *session) {
	status := store.MappingStatus(r.PostForm.Get("status"))
	if status != store.StatusBlocked && status != store.StatusLinked {
		status = "" // the service explains the valid values
	}
	m, err := h.d.Provision.SetStatus(r.Context(), s.Actor(), strings.TrimSpace(r.PostForm.Get("address")), status)
	if err != nil {
		h.showMappings(w, r, s, 0, err, "", "")
		return
	}
	msg := "Unblocked " + m.QortalAddress + ": it can sign in again."
	if h.disableBlocked {
		msg += " Nextcloud user " + m.NextcloudUserID + " is enabled again."
	}
	if m.Status == store.StatusBlocked {
		msg = "Blocked " + m.QortalAddress + ": it cannot sign in until unblocked, and its sessions were ended."
		if h.disableBlocked {
			msg += " Nextcloud user " + m.NextcloudUserID + " is disabled, so its app passwords stop too."
		}
	}
	h.done(w, r, s, back(r, "/mappings"), msg)
}
