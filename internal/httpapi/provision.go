package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/provision"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// ProvisionAPI serves /api/provision/*.
type ProvisionAPI struct {
	Service *provision.Service
	Auth    *AdminAuth
}

// Register mounts the routes on r.
func (p *ProvisionAPI) Register(r *mux.Router) {
	// Full paths on the parent router, not a PathPrefix subrouter: with
	// gorilla/mux 1.8 a subrouter loses a method mismatch (PATCH /upsert
	// answered 404 instead of 405) because its routes share the prefix matcher.
	route := func(path string, h http.HandlerFunc, method string) {
		r.Handle("/api/provision"+path, p.Auth.Middleware(h)).Methods(method)
	}
	route("/upsert", p.upsert, http.MethodPost)
	route("/challenge", p.challenge, http.MethodPost)
	route("/upsert-from-wallet", p.upsertFromWallet, http.MethodPost)
	route("/link", p.link, http.MethodPost)
	route("/mapping/{qortalAddress}", p.get, http.MethodGet)
	route("/mapping/{qortalAddress}", p.unlink, http.MethodDelete)
	route("/mapping/{qortalAddress}/status", p.setStatus, http.MethodPut)
	route("/mappings", p.list, http.MethodGet)
}

// MappingJSON is a mapping as the API shows it.
type MappingJSON struct {
	QortalAddress   string    `json:"qortalAddress"`
	NextcloudUserID string    `json:"nextcloudUserId"`
	DisplayName     string    `json:"displayName,omitempty"`
	Email           string    `json:"email,omitempty"`
	Status          string    `json:"status"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
}

func mappingJSON(m store.Mapping) MappingJSON {
	return MappingJSON{m.QortalAddress, m.NextcloudUserID, m.DisplayName, m.Email, string(m.Status), m.CreatedAt, m.UpdatedAt}
}

type upsertResponse struct {
	Linked          bool        `json:"linked"`
	QortalAddress   string      `json:"qortalAddress"`
	NextcloudUserID string      `json:"nextcloudUserId"`
	Created         bool        `json:"created"`
	Mapping         MappingJSON `json:"mapping"`
}

func writeResult(w http.ResponseWriter, res provision.Result) {
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	apierror.WriteJSON(w, status, upsertResponse{
		Linked: res.Mapping.Status == store.StatusLinked, QortalAddress: res.Mapping.QortalAddress,
		NextcloudUserID: res.Mapping.NextcloudUserID, Created: res.Created, Mapping: mappingJSON(res.Mapping),
	})
}

func (p *ProvisionAPI) upsert(w http.ResponseWriter, r *http.Request) {
	var in struct {
		QortalAddress   string   `json:"qortalAddress"`
		NextcloudUserID string   `json:"nextcloudUserId"`
		DisplayName     string   `json:"displayName"`
		Email           string   `json:"email"`
		Groups          []string `json:"groups"`
	}
	if err := apierror.DecodeJSON(r, &in, 0); err != nil {
		apierror.Write(w, err)
		return
	}
	res, err := p.Service.Upsert(r.Context(), Actor(r.Context()), provision.Request{
		QortalAddress: in.QortalAddress, NextcloudUserID: in.NextcloudUserID,
		DisplayName: in.DisplayName, Email: in.Email, Groups: in.Groups,
	})
	if err != nil {
		apierror.Write(w, err)
		return
	}
	writeResult(w, res)
}

func (p *ProvisionAPI) challenge(w http.ResponseWriter, r *http.Request) {
	var in struct {
		QortalAddress string `json:"qortalAddress"`
	}
	if err := apierror.DecodeJSON(r, &in, 0); err != nil {
		apierror.Write(w, err)
		return
	}
	c, err := p.Service.IssueChallenge(r.Context(), in.QortalAddress)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	apierror.WriteJSON(w, http.StatusCreated, map[string]any{
		"challengeId": c.ID, "message": c.Message, "expiresAt": c.ExpiresAt.UTC().Format(time.RFC3339),
	})
}

func (p *ProvisionAPI) upsertFromWallet(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ChallengeID     string `json:"challengeId"`
		PublicKey       string `json:"publicKey"`
		Signature       string `json:"signature"`
		NextcloudUserID string `json:"nextcloudUserId"`
		DisplayName     string `json:"displayName"`
		Email           string `json:"email"`
	}
	if err := apierror.DecodeJSON(r, &in, 0); err != nil {
		apierror.Write(w, err)
		return
	}
	res, err := p.Service.UpsertFromWallet(r.Context(), Actor(r.Context()), provision.WalletRequest{
		ChallengeID: in.ChallengeID, PublicKey: in.PublicKey, Signature: in.Signature,
		NextcloudUserID: in.NextcloudUserID, DisplayName: in.DisplayName, Email: in.Email,
	})
	if err != nil {
		apierror.Write(w, err)
		return
	}
	writeResult(w, res)
}

func (p *ProvisionAPI) link(w http.ResponseWriter, r *http.Request) {
	var in struct {
		QortalAddress   string `json:"qortalAddress"`
		NextcloudUserID string `json:"nextcloudUserId"`
	}
	if err := apierror.DecodeJSON(r, &in, 0); err != nil {
		apierror.Write(w, err)
		return
	}
	m, err := p.Service.Link(r.Context(), Actor(r.Context()), in.QortalAddress, in.NextcloudUserID)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	writeResult(w, provision.Result{Mapping: m})
}

func (p *ProvisionAPI) get(w http.ResponseWriter, r *http.Request) {
	m, err := p.Service.Get(r.Context(), mux.Vars(r)["qortalAddress"])
	if err != nil {
		apierror.Write(w, err)
		return
	}
	apierror.WriteJSON(w, http.StatusOK, mappingJSON(m))
}

func (p *ProvisionAPI) unlink(w http.ResponseWriter, r *http.Request) {
	m, err := p.Service.Unlink(r.Context(), Actor(r.Context()), mux.Vars(r)["qortalAddress"])
	if err != nil {
		apierror.Write(w, err)
		return
	}
	apierror.WriteJSON(w, http.StatusOK, map[string]any{"unlinked": true, "mapping": mappingJSON(m)})
}

// setStatus blocks or unblocks an address, with the same effects as the
// console's buttons (sessions ended, Nextcloud account disabled/enabled).
// "invited" is a state onboarding sets, not one an admin may choose here.
func (p *ProvisionAPI) setStatus(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Status string `json:"status"`
	}
	if err := apierror.DecodeJSON(r, &in, 0); err != nil {
		apierror.Write(w, err)
		return
	}
	status := store.MappingStatus(in.Status)
	if status != store.StatusBlocked && status != store.StatusLinked {
		apierror.Write(w, apierror.BadRequest("invalid_status", "status must be \"blocked\" or \"linked\" (unblock)"))
		return
	}
	m, err := p.Service.SetStatus(r.Context(), Actor(r.Context()), mux.Vars(r)["qortalAddress"], status)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	apierror.WriteJSON(w, http.StatusOK, mappingJSON(m))
}

func (p *ProvisionAPI) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	opts := store.ListOptions{Cursor: q.Get("cursor"), Query: q.Get("q")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			apierror.Write(w, apierror.BadRequest("invalid_limit", "limit must be an integer between 1 and 500"))
			return
		}
		opts.Limit = n
	}
	page, err := p.Service.List(r.Context(), opts)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	out := struct {
		Mappings   []MappingJSON `json:"mappings"`
		NextCursor string        `json:"nextCursor,omitempty"`
	}{Mappings: make([]MappingJSON, 0, len(page.Mappings)), NextCursor: page.NextCursor}
	for _, m := range page.Mappings {
		out.Mappings = append(out.Mappings, mappingJSON(m))
	}
	apierror.WriteJSON(w, http.StatusOK, out)
}
