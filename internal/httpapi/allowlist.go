package httpapi

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/policy"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// AllowlistAPI serves /api/allowlist: the addresses the allowlist guards
// let create an account at first login.
type AllowlistAPI struct {
	Service *policy.Service
	Auth    *AdminAuth
}

// Register mounts the routes on r.
func (a *AllowlistAPI) Register(r *mux.Router) {
	r.Handle("/api/allowlist", a.Auth.Middleware(http.HandlerFunc(a.add))).Methods(http.MethodPost)
	r.Handle("/api/allowlist", a.Auth.Middleware(http.HandlerFunc(a.list))).Methods(http.MethodGet)
	r.Handle("/api/allowlist/{qortalAddress}", a.Auth.Middleware(http.HandlerFunc(a.remove))).Methods(http.MethodDelete)
}

// AllowlistJSON is an allowlist entry as the API shows it.
type AllowlistJSON struct {
	QortalAddress string    `json:"qortalAddress"`
	Note          string    `json:"note,omitempty"`
	AddedBy       string    `json:"addedBy"`
	CreatedAt     time.Time `json:"createdAt"`
}

func allowlistJSON(e store.AllowlistEntry) AllowlistJSON {
	return AllowlistJSON{e.QortalAddress, e.Note, e.AddedBy, e.CreatedAt}
}

func (a *AllowlistAPI) add(w http.ResponseWriter, r *http.Request) {
	var in struct {
		QortalAddress string `json:"qortalAddress"`
		Note          string `json:"note"`
	}
	if err := apierror.DecodeJSON(r, &in, 0); err != nil {
		apierror.Write(w, err)
		return
	}
	e, err := a.Service.AllowAdd(r.Context(), Actor(r.Context()), in.QortalAddress, in.Note)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	apierror.WriteJSON(w, http.StatusCreated, allowlistJSON(e))
}

func (a *AllowlistAPI) list(w http.ResponseWriter, r *http.Request) {
	opts, err := listOptions(r)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	page, err := a.Service.AllowList(r.Context(), opts)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	out := struct {
		Entries    []AllowlistJSON `json:"entries"`
		NextCursor string          `json:"nextCursor,omitempty"`
	}{Entries: make([]AllowlistJSON, 0, len(page.Entries)), NextCursor: page.NextCursor}
	for _, e := range page.Entries {
		out.Entries = append(out.Entries, allowlistJSON(e))
	}
	apierror.WriteJSON(w, http.StatusOK, out)
}

func (a *AllowlistAPI) remove(w http.ResponseWriter, r *http.Request) {
	e, err := a.Service.AllowRemove(r.Context(), Actor(r.Context()), mux.Vars(r)["qortalAddress"])
	if err != nil {
		apierror.Write(w, err)
		return
	}
	apierror.WriteJSON(w, http.StatusOK, map[string]any{"removed": true, "entry": allowlistJSON(e)})
}
