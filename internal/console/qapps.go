package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/qapps"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// The Q-Apps page: search the node's apps, approve, pin, edit groups and
// actions, disable and remove; and the External sites commands. Every
// change goes through the same catalog service as /api/qapps.

type qappsView struct {
	Enabled   bool
	Origin    string
	Apps      []qappRow
	Query     string
	Service   string
	Searched  bool
	Results   []qappResult
	Actions   []string
	Supported []string
	Script    string
}

type qappRow struct {
	qapps.Entry
	LaunchURL   string
	GroupsText  string
	ActionsSet  map[string]bool
	ShortPinned string
	ShortLatest string
}

type qappResult struct {
	qortalnode.Resource
	Approved bool
}

func shortSig(s string) string {
	if len(s) <= 16 {
		return s
	}
	return s[:8] + "…" + s[len(s)-6:]
}

func (h *Handler) qappsPage(w http.ResponseWriter, r *http.Request, s *session) {
	h.showQApps(w, r, s, http.StatusOK, nil)
}

func (h *Handler) showQApps(w http.ResponseWriter, r *http.Request, s *session, status int, actionErr error) {
	v := h.pageFor(w, r, s, "Q-Apps", "qapps")
	d := qappsView{Enabled: h.d.QApps != nil, Origin: h.d.QAppsOrigin, Actions: qapps.SigningActions, Supported: qapps.SupportedSigningActions}
	if !d.Enabled {
		v.D = d
		h.render(w, r, status, "qapps.html", v)
		return
	}
	entries, err := h.d.QApps.List(r.Context(), true)
	var all []store.QApp
	for _, e := range entries {
		set := map[string]bool{}
		for _, a := range e.Actions {
			set[a] = true
		}
		d.Apps = append(d.Apps, qappRow{Entry: e, LaunchURL: qapps.LaunchURL(h.d.QAppsOrigin, e.ID), GroupsText: strings.Join(e.Groups, ", "),
			ActionsSet: set, ShortPinned: shortSig(e.PinnedSignature), ShortLatest: shortSig(e.LatestSignature)})
		all = append(all, e.QApp)
	}
	d.Script = qapps.ExternalSitesScript(h.d.QAppsOrigin, all)
	q := r.URL.Query()
	d.Query, d.Service = strings.TrimSpace(q.Get("q")), q.Get("service")
	if d.Service == "" {
		d.Service = store.QAppServiceApp
	}
	var searchErr error
	if q.Has("q") {
		d.Searched = true
		res, err := h.d.QApps.Search(r.Context(), d.Service, d.Query)
		searchErr = err
		for _, x := range res {
			approved := slices.ContainsFunc(all, func(a store.QApp) bool {
				id := x.Identifier
				if id == "default" {
					id = ""
				}
				return a.Service == x.Service && strings.EqualFold(a.Name, x.Name) && a.Identifier == id
			})
			d.Results = append(d.Results, qappResult{Resource: x, Approved: approved})
		}
	}
	status = showErrors(&v, status, actionErr, firstErr(err, searchErr))
	v.D = d
	h.render(w, r, status, "qapps.html", v)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (h *Handler) qappsEnabled(w http.ResponseWriter, r *http.Request, s *session) bool {
	if h.d.QApps == nil {
		h.showQApps(w, r, s, 0, apierror.New(http.StatusNotFound, "qapps_disabled", "the Q-Apps gateway is not configured (qapps.origin)"))
		return false
	}
	return true
}

func (h *Handler) qappApprove(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.qappsEnabled(w, r, s) {
		return
	}
	f := r.PostForm
	title := f.Get("title")
	e, err := h.d.QApps.Create(r.Context(), s.Actor(), qapps.Input{Service: f.Get("service"), Name: f.Get("name"), Identifier: f.Get("identifier"), Title: &title})
	if err != nil {
		h.showQApps(w, r, s, 0, err)
		return
	}
	h.done(w, r, s, "/qapps", "Approved "+e.Title+", pinned to its current version.")
}

func splitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (h *Handler) qappEdit(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.qappsEnabled(w, r, s) {
		return
	}
	f := r.PostForm
	title, groups, actions := f.Get("title"), splitList(f.Get("groups")), f["actions"]
	if actions == nil {
		actions = []string{}
	}
	disabled := f.Get("disabled") == "on"
	e, err := h.d.QApps.Update(r.Context(), s.Actor(), mux.Vars(r)["id"], qapps.Input{Title: &title, Groups: &groups, Actions: &actions, Disabled: &disabled})
	if err != nil {
		h.showQApps(w, r, s, 0, err)
		return
	}
	h.done(w, r, s, "/qapps", "Saved "+e.Title+".")
}

func (h *Handler) qappPin(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.qappsEnabled(w, r, s) {
		return
	}
	e, err := h.d.QApps.Pin(r.Context(), s.Actor(), mux.Vars(r)["id"])
	if err != nil {
		h.showQApps(w, r, s, 0, err)
		return
	}
	h.done(w, r, s, "/qapps", e.Title+" now serves version "+shortSig(e.PinnedSignature)+".")
}

func (h *Handler) qappDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.qappsEnabled(w, r, s) {
		return
	}
	a, err := h.d.QApps.Delete(r.Context(), s.Actor(), mux.Vars(r)["id"])
	if err != nil {
		h.showQApps(w, r, s, 0, err)
		return
	}
	h.done(w, r, s, "/qapps", "Removed "+a.Title+". Run the External sites commands again to drop its menu entry.")
}
