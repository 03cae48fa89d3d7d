package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/invite"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// inviteRow is an invite with its status at render time.
type inviteRow struct {
	store.Invite
	Status string
}

type invitesView struct {
	Query, Cursor string
	Invites       []inviteRow
	Next, First   string
	DefaultHours  int
	// Created is the invite this response created: its token and link are
	// shown here once and never again (only a hash is stored).
	Created *invite.Created
	// The create form, refilled after a failure.
	UserID, Note, Hours string
}

func (h *Handler) invites(w http.ResponseWriter, r *http.Request, s *session) {
	h.showInvites(w, r, s, http.StatusOK, nil, nil)
}

func (h *Handler) showInvites(w http.ResponseWriter, r *http.Request, s *session, status int, err error, created *invite.Created) {
	v := h.pageFor(w, r, s, "Invites", "invites")
	q := r.URL.Query()
	d := invitesView{Query: strings.TrimSpace(q.Get("q")), Cursor: q.Get("cursor"), Created: created,
		DefaultHours: int(h.inviteTTL / time.Hour)}
	if r.Method == http.MethodPost && created == nil {
		d.UserID, d.Note, d.Hours = r.PostForm.Get("userId"), r.PostForm.Get("note"), r.PostForm.Get("hours")
	}
	page, lerr := h.d.Invites.List(r.Context(), store.ListOptions{Limit: h.pageSize, Cursor: d.Cursor, Query: d.Query})
	status = showErrors(&v, status, err, lerr)
	now := h.now()
	for _, inv := range page.Invites {
		d.Invites = append(d.Invites, inviteRow{Invite: inv, Status: invite.Status(inv, now)})
	}
	d.Next, d.First = h.pager("/invites", url.Values{"q": {d.Query}}, d.Cursor, page.NextCursor)
	v.D = d
	h.render(w, r, status, "invites.html", v)
}

// inviteCreate shows the new token in its answer rather than redirecting:
// the token must not travel in a URL or a cookie, and it is shown once.
func (h *Handler) inviteCreate(w http.ResponseWriter, r *http.Request, s *session) {
	req := invite.Request{NextcloudUserID: strings.TrimSpace(r.PostForm.Get("userId")), Note: r.PostForm.Get("note")}
	if hs := strings.TrimSpace(r.PostForm.Get("hours")); hs != "" {
		n, err := strconv.Atoi(hs)
		if err != nil || n < 1 || n > int(invite.MaxTTL/time.Hour) {
			h.showInvites(w, r, s, 0, apierror.BadRequest("invalid_ttl", "valid for must be a whole number of hours between 1 and %d", int(invite.MaxTTL/time.Hour)), nil)
			return
		}
		req.TTL = time.Duration(n) * time.Hour
	}
	c, err := h.d.Invites.Create(r.Context(), s.Actor(), req)
	if err != nil {
		h.showInvites(w, r, s, 0, err, nil)
		return
	}
	h.showInvites(w, r, s, http.StatusCreated, nil, &c)
}

func (h *Handler) inviteRevoke(w http.ResponseWriter, r *http.Request, s *session) {
	id := strings.TrimSpace(r.PostForm.Get("id"))
	if _, err := h.d.Invites.Revoke(r.Context(), s.Actor(), id); err != nil {
		h.showInvites(w, r, s, 0, err, nil)
		return
	}
	h.done(w, r, s, back(r, "/invites"), "Revoked invite "+id+": its link no longer works.")
}

type allowlistView struct {
	Query, Cursor string
	Entries       []store.AllowlistEntry
	Next, First   string
	Address, Note string
}

func (h *Handler) allowlist(w http.ResponseWriter, r *http.Request, s *session) {
	h.showAllowlist(w, r, s, http.StatusOK, nil)
}

func (h *Handler) showAllowlist(w http.ResponseWriter, r *http.Request, s *session, status int, err error) {
	v := h.pageFor(w, r, s, "Allowlist", "allowlist")
	q := r.URL.Query()
	d := allowlistView{Query: strings.TrimSpace(q.Get("q")), Cursor: q.Get("cursor")}
	if r.Method == http.MethodPost {
		d.Address, d.Note = r.PostForm.Get("address"), r.PostForm.Get("note")
	}
	page, lerr := h.d.Policy.AllowList(r.Context(), store.ListOptions{Limit: h.pageSize, Cursor: d.Cursor, Query: d.Query})
	status = showErrors(&v, status, err, lerr)
	d.Entries = page.Entries
	d.Next, d.First = h.pager("/allowlist", url.Values{"q": {d.Query}}, d.Cursor, page.NextCursor)
	v.D = d
	h.render(w, r, status, "allowlist.html", v)
}

func (h *Handler) allowlistAdd(w http.ResponseWriter, r *http.Request, s *session) {
	e, err := h.d.Policy.AllowAdd(r.Context(), s.Actor(), r.PostForm.Get("address"), r.PostForm.Get("note"))
	if err != nil {
		h.showAllowlist(w, r, s, 0, err)
		return
	}
	h.done(w, r, s, "/allowlist", "Added "+e.QortalAddress+" to the allowlist.")
}

func (h *Handler) allowlistRemove(w http.ResponseWriter, r *http.Request, s *session) {
	e, err := h.d.Policy.AllowRemove(r.Context(), s.Actor(), strings.TrimSpace(r.PostForm.Get("address")))
	if err != nil {
		h.showAllowlist(w, r, s, 0, err)
		return
	}
	h.done(w, r, s, back(r, "/allowlist"), "Removed "+e.QortalAddress+" from the allowlist.")
}
