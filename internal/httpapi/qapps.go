package httpapi

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/qapps"
)

// QAppsAPI serves /api/qapps: the Q-Apps gateway's catalog of approved apps.
type QAppsAPI struct {
	Catalog *qapps.Catalog
	Auth    *AdminAuth
	// Origin is the gateway's origin, for each entry's launch URL.
	Origin string
}

// Register mounts the routes on r.
func (a *QAppsAPI) Register(r *mux.Router) {
	m := a.Auth.Middleware
	r.Handle("/api/qapps", m(http.HandlerFunc(a.list))).Methods(http.MethodGet)
	r.Handle("/api/qapps", m(http.HandlerFunc(a.create))).Methods(http.MethodPost)
	r.Handle("/api/qapps/{id}", m(http.HandlerFunc(a.get))).Methods(http.MethodGet)
	r.Handle("/api/qapps/{id}", m(http.HandlerFunc(a.update))).Methods(http.MethodPut)
	r.Handle("/api/qapps/{id}", m(http.HandlerFunc(a.remove))).Methods(http.MethodDelete)
	r.Handle("/api/qapps/{id}/pin", m(http.HandlerFunc(a.pin))).Methods(http.MethodPost)
}

// QAppJSON is an approved app as the API shows it.
type QAppJSON struct {
	ID              string    `json:"id"`
	Service         string    `json:"service"`
	Name            string    `json:"name"`
	Identifier      string    `json:"identifier,omitempty"`
	Title           string    `json:"title"`
	Icon            string    `json:"icon,omitempty"`
	Groups          []string  `json:"groups"`
	Actions         []string  `json:"actions"`
	Disabled        bool      `json:"disabled"`
	PinnedSignature string    `json:"pinnedSignature"`
	PinnedAt        time.Time `json:"pinnedAt"`
	LatestSignature string    `json:"latestSignature,omitempty"`
	UpdateAvailable bool      `json:"updateAvailable"`
	NodeError       string    `json:"nodeError,omitempty"`
	LaunchURL       string    `json:"launchUrl"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
}

func (a *QAppsAPI) json(e qapps.Entry) QAppJSON {
	return QAppJSON{
		ID: e.ID, Service: e.Service, Name: e.Name, Identifier: e.Identifier, Title: e.Title, Icon: e.Icon,
		Groups: e.Groups, Actions: e.Actions, Disabled: e.Disabled, PinnedSignature: e.PinnedSignature, PinnedAt: e.PinnedAt,
		LatestSignature: e.LatestSignature, UpdateAvailable: e.UpdateAvailable, NodeError: e.NodeError,
		LaunchURL: qapps.LaunchURL(a.Origin, e.ID), CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
	}
}

func (a *QAppsAPI) list(w http.ResponseWriter, r *http.Request) {
	entries, err := a.Catalog.List(r.Context(), r.URL.Query().Get("node") != "false")
	if err != nil {
		apierror.Write(w, err)
		return
	}
	out := struct {
		Apps []QAppJSON `json:"apps"`
	}{Apps: make([]QAppJSON, 0, len(entries))}
	for _, e := range entries {
		out.Apps = append(out.Apps, a.json(e))
	}
	apierror.WriteJSON(w, http.StatusOK, out)
}

func (a *QAppsAPI) create(w http.ResponseWriter, r *http.Request) {
	var in qapps.Input
	if err := apierror.DecodeJSON(r, &in, 0); err != nil {
		apierror.Write(w, err)
		return
	}
	e, err := a.Catalog.Create(r.Context(), Actor(r.Context()), in)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	apierror.WriteJSON(w, http.StatusCreated, a.json(e))
}

func (a *QAppsAPI) get(w http.ResponseWriter, r *http.Request) {
	e, err := a.Catalog.Get(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		apierror.Write(w, err)
		return
	}
	apierror.WriteJSON(w, http.StatusOK, a.json(e))
}

func (a *QAppsAPI) update(w http.ResponseWriter, r *http.Request) {
	var in qapps.Input
	if err := apierror.DecodeJSON(r, &in, 0); err != nil {
		apierror.Write(w, err)
		return
	}
	e, err := a.Catalog.Update(r.Context(), Actor(r.Context()), mux.Vars(r)["id"], in)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	apierror.WriteJSON(w, http.StatusOK, a.json(e))
}

func (a *QAppsAPI) remove(w http.ResponseWriter, r *http.Request) {
	app, err := a.Catalog.Delete(r.Context(), Actor(r.Context()), mux.Vars(r)["id"])
	if err != nil {
		apierror.Write(w, err)
		return
	}
	apierror.WriteJSON(w, http.StatusOK, map[string]any{"removed": true, "app": a.json(qapps.Entry{QApp: app})})
}

func (a *QAppsAPI) pin(w http.ResponseWriter, r *http.Request) {
	e, err := a.Catalog.Pin(r.Context(), Actor(r.Context()), mux.Vars(r)["id"])
	if err != nil {
		apierror.Write(w, err)
		return
	}
	apierror.WriteJSON(w, http.StatusOK, a.json(e))
}
