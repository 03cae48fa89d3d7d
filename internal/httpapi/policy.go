package httpapi

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/policy"
)

// PolicyAPI serves /api/policy: the login policy in force (GET), an admin
// override (PUT) and going back to the configured one (DELETE).
type PolicyAPI struct {
	Service *policy.Service
	Config  config.Policy
	Auth    *AdminAuth
}

// Register mounts the routes on r.
func (p *PolicyAPI) Register(r *mux.Router) {
	r.Handle("/api/policy", p.Auth.Middleware(http.HandlerFunc(p.get))).Methods(http.MethodGet)
	r.Handle("/api/policy", p.Auth.Middleware(http.HandlerFunc(p.put))).Methods(http.MethodPut)
	r.Handle("/api/policy", p.Auth.Middleware(http.HandlerFunc(p.reset))).Methods(http.MethodDelete)
}

type policyJSON struct {
	Mode       string            `json:"mode"`
	Guard      string            `json:"guard"`
	Source     string            `json:"source"`
	UpdatedBy  string            `json:"updatedBy,omitempty"`
	UpdatedAt  *time.Time        `json:"updatedAt,omitempty"`
	Configured map[string]string `json:"configured"`
}

func (p *PolicyAPI) write(w http.ResponseWriter, e policy.Effective) {
	out := policyJSON{Mode: e.Mode, Guard: e.Guard, Source: e.Source, UpdatedBy: e.UpdatedBy,
		Configured: map[string]string{"mode": p.Config.Mode, "guard": p.Config.Guard}}
	if !e.UpdatedAt.IsZero() {
		out.UpdatedAt = optTime(&e.UpdatedAt)
	}
	apierror.WriteJSON(w, http.StatusOK, out)
}

func (p *PolicyAPI) get(w http.ResponseWriter, r *http.Request) {
	e, err := p.Service.Current(r.Context())
	if err != nil {
		apierror.Write(w, err)
		return
	}
	p.write(w, e)
}

func (p *PolicyAPI) put(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Mode  string `json:"mode"`
		Guard string `json:"guard"`
	}
	if err := apierror.DecodeJSON(r, &in, 0); err != nil {
		apierror.Write(w, err)
		return
	}
	if in.Guard == "" {
		in.Guard = policy.GuardNone
	}
	e, err := p.Service.Set(r.Context(), Actor(r.Context()), in.Mode, in.Guard)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	p.write(w, e)
}

func (p *PolicyAPI) reset(w http.ResponseWriter, r *http.Request) {
	e, err := p.Service.Reset(r.Context(), Actor(r.Context()))
	if err != nil {
		apierror.Write(w, err)
		return
	}
	p.write(w, e)
}
