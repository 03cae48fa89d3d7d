package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/isoduration"
	"github.com/qortal-oidc/qortal-oidc/internal/onboarding"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// OnboardingAPI serves /api/onboarding: campaigns that invite existing
// Nextcloud users to link a Qortal address.
type OnboardingAPI struct {
	Service *onboarding.Service
	Auth    *AdminAuth
}

// Register mounts the routes on r.
func (o *OnboardingAPI) Register(r *mux.Router) {
	r.Handle("/api/onboarding", o.Auth.Middleware(http.HandlerFunc(o.start))).Methods(http.MethodPost)
	r.Handle("/api/onboarding", o.Auth.Middleware(http.HandlerFunc(o.list))).Methods(http.MethodGet)
	r.Handle("/api/onboarding/{id}", o.Auth.Middleware(http.HandlerFunc(o.get))).Methods(http.MethodGet)
	r.Handle("/api/onboarding/{id}/resend", o.Auth.Middleware(http.HandlerFunc(o.resend))).Methods(http.MethodPost)
}

type templatesJSON struct {
	NotificationShort string `json:"notificationShort,omitempty"`
	NotificationLong  string `json:"notificationLong,omitempty"`
	EmailSubject      string `json:"emailSubject,omitempty"`
	EmailBody         string `json:"emailBody,omitempty"`
}

// CampaignJSON is a campaign as the API shows it.
type CampaignJSON struct {
	ID        string          `json:"id"`
	Channels  []string        `json:"channels"`
	Selector  json.RawMessage `json:"selector"`
	Templates templatesJSON   `json:"templates"`
	InviteTTL string          `json:"inviteTtl"`
	CreatedBy string          `json:"createdBy"`
	CreatedAt time.Time       `json:"createdAt"`
	Counts    map[string]int  `json:"counts"`
}

// TargetJSON is one user of a campaign.
type TargetJSON struct {
	NextcloudUserID string     `json:"nextcloudUserId"`
	State           string     `json:"state"`
	InviteID        string     `json:"inviteId,omitempty"`
	Attempts        int        `json:"attempts"`
	LastError       string     `json:"lastError,omitempty"`
	SentAt          *time.Time `json:"sentAt,omitempty"`
	UpdatedAt       time.Time  `json:"updatedAt"`
}

func campaignJSON(c store.Campaign) CampaignJSON {
	counts := map[string]int{}
	for k, v := range c.Counts {
		counts[string(k)] = v
	}
	sel := json.RawMessage(c.Selector)
	if !json.Valid(sel) {
		sel = json.RawMessage("{}")
	}
	return CampaignJSON{
		ID: c.ID, Channels: c.Channels, Selector: sel,
		Templates: templatesJSON{c.NotificationShort, c.NotificationLong, c.EmailSubject, c.EmailBody},
		InviteTTL: isoduration.Format(c.InviteTTL), CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, Counts: counts,
	}
}

func (o *OnboardingAPI) start(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserIDs   []string      `json:"userIds"`
		Group     string        `json:"group"`
		Search    string        `json:"search"`
		Channels  []string      `json:"channels"`
		Templates templatesJSON `json:"templates"`
		InviteTTL string        `json:"inviteTtl"`
	}
	if err := apierror.DecodeJSON(r, &in, 1<<20); err != nil {
		apierror.Write(w, err)
		return
	}
	var ttl time.Duration
	if in.InviteTTL != "" {
		d, err := isoduration.Parse(in.InviteTTL)
		if err != nil || d <= 0 {
			apierror.Write(w, apierror.BadRequest("invalid_ttl", "inviteTtl must be a positive ISO 8601 duration such as P14D"))
			return
		}
		ttl = d
	}
	c, err := o.Service.Start(r.Context(), Actor(r.Context()), onboarding.StartRequest{
		UserIDs: in.UserIDs, Group: in.Group, Search: in.Search, Channels: in.Channels, InviteTTL: ttl,
		Templates: onboarding.Templates(in.Templates),
	})
	if err != nil {
		apierror.Write(w, err)
		return
	}
	apierror.WriteJSON(w, http.StatusCreated, campaignJSON(c))
}

func (o *OnboardingAPI) list(w http.ResponseWriter, r *http.Request) {
	opts, err := listOptions(r)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	page, err := o.Service.List(r.Context(), opts)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	out := struct {
		Campaigns  []CampaignJSON `json:"campaigns"`
		NextCursor string         `json:"nextCursor,omitempty"`
	}{Campaigns: make([]CampaignJSON, 0, len(page.Campaigns)), NextCursor: page.NextCursor}
	for _, c := range page.Campaigns {
		out.Campaigns = append(out.Campaigns, campaignJSON(c))
	}
	apierror.WriteJSON(w, http.StatusOK, out)
}

// get shows a campaign and a page of its targets; ?state= filters them.
func (o *OnboardingAPI) get(w http.ResponseWriter, r *http.Request) {
	opts, err := listOptions(r)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	if st := r.URL.Query().Get("state"); st != "" {
		if !store.TargetState(st).Valid() {
			apierror.Write(w, apierror.BadRequest("invalid_state", "state must be not_started, sending, invited, linked or failed"))
			return
		}
		opts.Query = st
	}
	c, page, err := o.Service.Get(r.Context(), mux.Vars(r)["id"], opts)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	out := struct {
		Campaign   CampaignJSON `json:"campaign"`
		Targets    []TargetJSON `json:"targets"`
		NextCursor string       `json:"nextCursor,omitempty"`
	}{Campaign: campaignJSON(c), Targets: make([]TargetJSON, 0, len(page.Targets)), NextCursor: page.NextCursor}
	for _, t := range page.Targets {
		out.Targets = append(out.Targets, TargetJSON{t.NextcloudUserID, string(t.State), t.InviteID, t.Attempts,
			t.LastError, optTime(t.SentAt), t.UpdatedAt})
	}
	apierror.WriteJSON(w, http.StatusOK, out)
}

func (o *OnboardingAPI) resend(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserIDs []string `json:"userIds"`
	}
	if err := decodeOptional(r, &in); err != nil {
		apierror.Write(w, err)
		return
	}
	n, err := o.Service.Resend(r.Context(), Actor(r.Context()), mux.Vars(r)["id"], in.UserIDs)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	apierror.WriteJSON(w, http.StatusOK, map[string]any{"queued": n})
}
