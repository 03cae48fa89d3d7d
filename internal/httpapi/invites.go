package httpapi

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/invite"
	"github.com/qortal-oidc/qortal-oidc/internal/isoduration"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// InviteAPI serves /api/invites. A new invite's token is in the creating
// answer only; listings never show tokens (the broker does not have them).
type InviteAPI struct {
	Service *invite.Service
	Auth    *AdminAuth
	Now     func() time.Time // nil: time.Now
}

// Register mounts the routes on r.
func (a *InviteAPI) Register(r *mux.Router) {
	r.Handle("/api/invites", a.Auth.Middleware(http.HandlerFunc(a.create))).Methods(http.MethodPost)
	r.Handle("/api/invites", a.Auth.Middleware(http.HandlerFunc(a.list))).Methods(http.MethodGet)
	r.Handle("/api/invites/{id}", a.Auth.Middleware(http.HandlerFunc(a.revoke))).Methods(http.MethodDelete)
}

// InviteJSON is an invite as the API shows it.
type InviteJSON struct {
	ID              string     `json:"id"`
	Status          string     `json:"status"` // active, used, revoked, expired
	NextcloudUserID string     `json:"nextcloudUserId,omitempty"`
	CampaignID      string     `json:"campaignId,omitempty"`
	Note            string     `json:"note,omitempty"`
	CreatedBy       string     `json:"createdBy"`
	CreatedAt       time.Time  `json:"createdAt"`
	ExpiresAt       time.Time  `json:"expiresAt"`
	UsedAt          *time.Time `json:"usedAt,omitempty"`
	UsedBy          string     `json:"usedBy,omitempty"`
	RevokedAt       *time.Time `json:"revokedAt,omitempty"`
}

func (a *InviteAPI) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *InviteAPI) json(inv store.Invite) InviteJSON {
	return InviteJSON{
		ID: inv.ID, Status: invite.Status(inv, a.now()), NextcloudUserID: inv.NextcloudUserID, CampaignID: inv.CampaignID,
		Note: inv.Note, CreatedBy: inv.CreatedBy, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt,
		UsedAt: optTime(inv.UsedAt), UsedBy: inv.UsedBy, RevokedAt: optTime(inv.RevokedAt),
	}
}

func (a *InviteAPI) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		NextcloudUserID string `json:"nextcloudUserId"`
		TTL             string `json:"ttl"` // ISO 8601, e.g. "PT72H"; empty: policy.invite_ttl
		Note            string `json:"note"`
	}
	if err := decodeOptional(r, &in); err != nil {
		apierror.Write(w, err)
		return
	}
	var ttl time.Duration
	if in.TTL != "" {
		d, err := isoduration.Parse(in.TTL)
		if err != nil || d <= 0 {
			apierror.Write(w, apierror.BadRequest("invalid_ttl", "ttl must be a positive ISO 8601 duration such as PT72H or P7D"))
			return
		}
		ttl = d
	}
	c, err := a.Service.Create(r.Context(), Actor(r.Context()), invite.Request{NextcloudUserID: in.NextcloudUserID, TTL: ttl, Note: in.Note})
	if err != nil {
		apierror.Write(w, err)
		return
	}
	apierror.WriteJSON(w, http.StatusCreated, map[string]any{"invite": a.json(c.Invite), "token": c.Token, "link": c.Link})
}

func (a *InviteAPI) list(w http.ResponseWriter, r *http.Request) {
	opts, err := listOptions(r)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	page, err := a.Service.List(r.Context(), opts)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	out := struct {
		Invites    []InviteJSON `json:"invites"`
		NextCursor string       `json:"nextCursor,omitempty"`
	}{Invites: make([]InviteJSON, 0, len(page.Invites)), NextCursor: page.NextCursor}
	for _, inv := range page.Invites {
		out.Invites = append(out.Invites, a.json(inv))
	}
	apierror.WriteJSON(w, http.StatusOK, out)
}

func (a *InviteAPI) revoke(w http.ResponseWriter, r *http.Request) {
	inv, err := a.Service.Revoke(r.Context(), Actor(r.Context()), mux.Vars(r)["id"])
	if err != nil {
		apierror.Write(w, err)
		return
	}
	apierror.WriteJSON(w, http.StatusOK, map[string]any{"revoked": true, "invite": a.json(inv)})
}
