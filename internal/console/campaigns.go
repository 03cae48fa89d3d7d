package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/invite"
	"github.com/qortal-oidc/qortal-oidc/internal/onboarding"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// targetStates are the columns of a campaign's progress, in order.
var targetStates = []store.TargetState{store.TargetNotStarted, store.TargetSending, store.TargetInvited, store.TargetLinked, store.TargetFailed}

type campaignRow struct {
	store.Campaign
	Target   string // the selector, readable
	Total    int
	Progress []stateCount // every state, in targetStates order
}

// stateCount is one state and how many are in it, for templates (which
// cannot index maps keyed by named string types).
type stateCount struct {
	State string
	N     int
}

type startForm struct {
	Target, UserIDs, Group, Search, Days                         string
	Notification, Email                                          bool
	NotificationShort, NotificationLong, EmailSubject, EmailBody string
}

type campaignsView struct {
	Cursor      string
	Campaigns   []campaignRow
	Next, First string
	States      []store.TargetState
	Form        startForm
	DefaultDays int
}

func (h *Handler) campaigns(w http.ResponseWriter, r *http.Request, s *session) {
	h.showCampaigns(w, r, s, http.StatusOK, nil)
}

func (h *Handler) showCampaigns(w http.ResponseWriter, r *http.Request, s *session, status int, err error) {
	v := h.pageFor(w, r, s, "Onboarding campaigns", "campaigns")
	d := campaignsView{Cursor: r.URL.Query().Get("cursor"), States: targetStates, Form: startForm{Target: "users", Notification: true}}
	if r.Method == http.MethodPost {
		f := r.PostForm
		d.Form = startForm{
			Target: f.Get("target"), UserIDs: f.Get("userIds"), Group: f.Get("group"), Search: f.Get("search"), Days: f.Get("days"),
			NotificationShort: f.Get("notificationShort"), NotificationLong: f.Get("notificationLong"),
			EmailSubject: f.Get("emailSubject"), EmailBody: f.Get("emailBody"),
		}
		for _, ch := range f["channel"] {
			d.Form.Notification = d.Form.Notification || ch == store.ChannelNotification
			d.Form.Email = d.Form.Email || ch == store.ChannelEmail
		}
	}
	page, lerr := h.d.Onboarding.List(r.Context(), store.ListOptions{Limit: h.pageSize, Cursor: d.Cursor})
	status = showErrors(&v, status, err, lerr)
	for _, c := range page.Campaigns {
		d.Campaigns = append(d.Campaigns, rowOf(c))
	}
	d.Next, d.First = h.pager("/campaigns", nil, d.Cursor, page.NextCursor)
	v.D = d
	h.render(w, r, status, "campaigns.html", v)
}

func rowOf(c store.Campaign) campaignRow {
	row := campaignRow{Campaign: c, Target: describeSelector(c.Selector)}
	for _, st := range targetStates {
		row.Progress = append(row.Progress, stateCount{string(st), c.Counts[st]})
		row.Total += c.Counts[st]
	}
	return row
}

// describeSelector turns the stored selector JSON into a phrase.
func describeSelector(sel string) string {
	var m map[string]any
	if json.Unmarshal([]byte(sel), &m) != nil {
		return sel
	}
	switch {
	case m["group"] != nil:
		return "members of group " + strconv.Quote(toString(m["group"]))
	case m["search"] != nil:
		return "users matching " + strconv.Quote(toString(m["search"]))
	case m["userIds"] != nil:
		return toString(m["userIds"]) + " listed users"
	}
	return sel
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (h *Handler) campaignStart(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	req := onboarding.StartRequest{
		Channels: f["channel"],
		Templates: onboarding.Templates{
			NotificationShort: f.Get("notificationShort"), NotificationLong: f.Get("notificationLong"),
			EmailSubject: f.Get("emailSubject"), EmailBody: f.Get("emailBody"),
		},
	}
	// Only the chosen selector is passed, so text left in the other
	// fields does not make the request ambiguous.
	switch f.Get("target") {
	case "users":
		req.UserIDs = strings.FieldsFunc(f.Get("userIds"), func(r rune) bool {
			return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
		})
	case "group":
		req.Group = strings.TrimSpace(f.Get("group"))
	case "search":
		req.Search = strings.TrimSpace(f.Get("search"))
	default:
		h.showCampaigns(w, r, s, 0, apierror.BadRequest("invalid_targets", "choose how to select the users: by user ids, by group or by search"))
		return
	}
	if ds := strings.TrimSpace(f.Get("days")); ds != "" {
		n, err := strconv.Atoi(ds)
		maxDays := int(invite.MaxTTL / (24 * time.Hour))
		if err != nil || n < 1 || n > maxDays {
			h.showCampaigns(w, r, s, 0, apierror.BadRequest("invalid_ttl", "invites valid for must be a whole number of days between 1 and %d", maxDays))
			return
		}
		req.InviteTTL = time.Duration(n) * 24 * time.Hour
	}
	c, err := h.d.Onboarding.Start(r.Context(), s.Actor(), req)
	if err != nil {
		h.showCampaigns(w, r, s, 0, err)
		return
	}
	n := 0
	for _, k := range c.Counts {
		n += k
	}
	h.done(w, r, s, "/campaigns/"+url.PathEscape(c.ID),
		"Started campaign "+c.ID+" for "+strconv.Itoa(n)+" users; invites are sent in the background.")
}

type campaignView struct {
	Campaign    campaignRow
	State       string
	States      []store.TargetState
	Targets     []store.CampaignTarget
	Next, First string
	Resendable  int // invited + failed
}

func (h *Handler) campaign(w http.ResponseWriter, r *http.Request, s *session) {
	h.showCampaign(w, r, s, http.StatusOK, nil)
}

func (h *Handler) showCampaign(w http.ResponseWriter, r *http.Request, s *session, status int, err error) {
	id := mux.Vars(r)["id"]
	v := h.pageFor(w, r, s, "Campaign "+id, "campaigns")
	q := r.URL.Query()
	d := campaignView{State: q.Get("state"), States: targetStates}
	if d.State != "" && !store.TargetState(d.State).Valid() {
		d.State = ""
	}
	if err != nil {
		status = showError(&v, err)
	}
	c, page, gerr := h.d.Onboarding.Get(r.Context(), id, store.ListOptions{Limit: h.pageSize, Cursor: q.Get("cursor"), Query: d.State})
	if gerr != nil {
		e := apierror.As(gerr)
		if e.Status == http.StatusNotFound {
			v.Title = "Campaign not found"
			v.Error = e.Message
			h.render(w, r, http.StatusNotFound, "error.html", v)
			return
		}
		if err == nil {
			status = showError(&v, gerr)
		}
	}
	d.Campaign = rowOf(c)
	d.Targets = page.Targets
	d.Resendable = c.Counts[store.TargetInvited] + c.Counts[store.TargetFailed]
	d.Next, d.First = h.pager("/campaigns/"+url.PathEscape(id), url.Values{"state": {d.State}}, q.Get("cursor"), page.NextCursor)
	v.D = d
	h.render(w, r, status, "campaign.html", v)
}

func (h *Handler) campaignResend(w http.ResponseWriter, r *http.Request, s *session) {
	id := mux.Vars(r)["id"]
	var users []string
	if u := strings.TrimSpace(r.PostForm.Get("userId")); u != "" {
		users = []string{u}
	}
	n, err := h.d.Onboarding.Resend(r.Context(), s.Actor(), id, users)
	if err != nil {
		h.showCampaign(w, r, s, 0, err)
		return
	}
	msg := "Queued " + strconv.Itoa(n) + " new invites; the old links stop working."
	if n == 0 {
		msg = "Nothing to resend: no target is invited-but-not-linked or failed."
	}
	h.done(w, r, s, "/campaigns/"+url.PathEscape(id), msg)
}
