// Package onboarding invites existing Nextcloud users to link a Qortal
// address. An admin starts a campaign (users by id, by group or by search;
// channels in-app notification and/or e-mail); the broker records one target
// per user, and a background worker creates a bound invite per target and
// delivers it, paced, claiming each target in the store so replicas never
// send twice and a restart neither loses nor repeats a delivery.
package onboarding

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/invite"
	"github.com/qortal-oidc/qortal-oidc/internal/mail"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// MaxTargets bounds one campaign.
const MaxTargets = 10000

// Directory is the part of the Nextcloud client onboarding uses.
type Directory interface {
	GetUser(ctx context.Context, id string) (nextcloud.User, error)
	SearchUsers(ctx context.Context, search string, limit, offset int) ([]string, error)
	GroupMembers(ctx context.Context, group string) ([]string, error)
	NotifyUser(ctx context.Context, userID, short, long string) error
}

// Mailer sends one e-mail (mail.Sender).
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// Service starts and reports on campaigns; Worker delivers them.
type Service struct {
	store   store.Store
	dir     Directory // nil: Nextcloud not configured
	mailer  Mailer    // nil: SMTP not configured
	invites *invite.Service
	cfg     config.Onboarding
	log     *slog.Logger
	now     func() time.Time
	metrics Observer
}

// Observer counts deliveries (metrics.Metrics).
type Observer interface {
	Delivered(channel, result string)
}

type noObserver struct{}

func (noObserver) Delivered(string, string) {}

// Deps are the Service's collaborators. Leave Directory or Mailer nil (not
// a typed nil) when Nextcloud or SMTP is not configured.
type Deps struct {
	Store     store.Store
	Directory Directory
	Mailer    Mailer
	Invites   *invite.Service
	Logger    *slog.Logger
	Now       func() time.Time
	Metrics   Observer // nil: not counted
}

// New builds a Service.
func New(cfg config.Config, d Deps) *Service {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Metrics == nil {
		d.Metrics = noObserver{}
	}
	return &Service{store: d.Store, dir: d.Directory, mailer: d.Mailer, invites: d.Invites, cfg: cfg.Onboarding, log: d.Logger, now: d.Now, metrics: d.Metrics}
}

// StartRequest describes a campaign. Exactly one of UserIDs, Group and
// Search selects the targets.
type StartRequest struct {
	UserIDs   []string
	Group     string
	Search    string
	Channels  []string // notification, email
	Templates Templates
	InviteTTL time.Duration // 0: onboarding.invite_ttl
}

// Start resolves the targets and records the campaign; the worker sends.
func (s *Service) Start(ctx context.Context, actor string, req StartRequest) (store.Campaign, error) {
	channels, err := s.checkChannels(req.Channels)
	if err != nil {
		return store.Campaign{}, err
	}
	tmpl := req.Templates.withDefaults(s.cfg)
	if err := tmpl.check(); err != nil {
		return store.Campaign{}, apierror.BadRequest("invalid_template", "%v", err)
	}
	ttl := req.InviteTTL
	if ttl == 0 {
		ttl = s.cfg.InviteTTL
	}
	if ttl < invite.MinTTL || ttl > invite.MaxTTL {
		return store.Campaign{}, apierror.BadRequest("invalid_ttl", "inviteTtl must be between %s and %s", invite.MinTTL, invite.MaxTTL)
	}
	users, selector, err := s.resolve(ctx, req)
	if err != nil {
		return store.Campaign{}, err
	}
	id, err := randomID("cmp_")
	if err != nil {
		return store.Campaign{}, err
	}
	c := store.Campaign{
		ID: id, Channels: channels, Selector: selector,
		NotificationShort: tmpl.NotificationShort, NotificationLong: tmpl.NotificationLong,
		EmailSubject: tmpl.EmailSubject, EmailBody: tmpl.EmailBody,
		InviteTTL: ttl, CreatedBy: actor,
	}
	detail, _ := json.Marshal(map[string]any{"channels": channels, "selector": json.RawMessage(selector), "targets": len(users)})
	c, err = s.store.CreateCampaign(ctx, c, users, store.AuditEntry{Actor: actor, Action: "campaign.create", Subject: id, Detail: string(detail)})
	if err != nil {
		return store.Campaign{}, storeErr(err)
	}
	s.log.InfoContext(ctx, "onboarding campaign started", "campaign", id, "targets", len(users), "channels", channels, "actor", actor)
	return c, nil
}

func (s *Service) checkChannels(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, apierror.BadRequest("invalid_channels", "channels must name notification and/or email")
	}
	seen := map[string]bool{}
	var out []string
	for _, ch := range in {
		switch ch {
		case store.ChannelNotification:
			if s.dir == nil {
				return nil, apierror.New(http.StatusBadGateway, "nextcloud_not_configured", "nextcloud is not configured (set nextcloud.url, user and app_password)")
			}
		case store.ChannelEmail:
			if s.mailer == nil {
				return nil, apierror.BadRequest("smtp_not_configured", "e-mail needs an SMTP relay: set smtp.host and smtp.from")
			}
		default:
			return nil, apierror.BadRequest("invalid_channels", "unknown channel %q: use notification and/or email", ch)
		}
		if !seen[ch] {
			seen[ch] = true
			out = append(out, ch)
		}
	}
	return out, nil
}

// resolve turns the selector into a sorted, de-duplicated list of user ids.
func (s *Service) resolve(ctx context.Context, req StartRequest) ([]string, string, error) {
	n := 0
	for _, set := range []bool{len(req.UserIDs) > 0, req.Group != "", req.Search != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, "", apierror.BadRequest("invalid_targets", "give exactly one of userIds, group or search")
	}
	if s.dir == nil {
		return nil, "", apierror.New(http.StatusBadGateway, "nextcloud_not_configured", "nextcloud is not configured (set nextcloud.url, user and app_password)")
	}
	var (
		ids []string
		sel any
		err error
	)
	switch {
	case len(req.UserIDs) > 0:
		if len(req.UserIDs) > MaxTargets {
			return nil, "", apierror.BadRequest("too_many_targets", "at most %d users per campaign", MaxTargets)
		}
		for _, u := range req.UserIDs {
			if u == "" || len(u) > 64 || strings.ContainsAny(u, "/\x00\r\n") {
				return nil, "", apierror.BadRequest("invalid_user_id", "%q is not a Nextcloud user id", truncate(u, 80))
			}
		}
		ids, sel = req.UserIDs, map[string]any{"userIds": len(req.UserIDs)}
	case req.Group != "":
		ids, err = s.dir.GroupMembers(ctx, req.Group)
		if errors.Is(err, nextcloud.ErrNotFound) {
			return nil, "", apierror.NotFound("group_not_found", "Nextcloud group %q does not exist", req.Group)
		}
		sel = map[string]any{"group": req.Group}
	default:
		if len(req.Search) > 200 {
			return nil, "", apierror.BadRequest("invalid_search", "search must be at most 200 characters")
		}
		ids, err = s.dir.SearchUsers(ctx, req.Search, MaxTargets+1, 0)
		sel = map[string]any{"search": req.Search}
	}
	if err != nil {
		return nil, "", apierror.Wrap(err, http.StatusBadGateway, "nextcloud_error", "could not list the Nextcloud users: %v", err)
	}
	ids = dedupe(ids)
	if len(ids) == 0 {
		return nil, "", apierror.BadRequest("no_targets", "the selection matches no Nextcloud user")
	}
	if len(ids) > MaxTargets {
		return nil, "", apierror.BadRequest("too_many_targets", "the selection matches more than %d users; narrow it", MaxTargets)
	}
	b, _ := json.Marshal(sel)
	return ids, string(b), nil
}

// List pages campaigns, newest first.
func (s *Service) List(ctx context.Context, opts store.ListOptions) (store.CampaignPage, error) {
	p, err := s.store.ListCampaigns(ctx, opts)
	if errors.Is(err, store.ErrInvalidCursor) {
		return store.CampaignPage{}, apierror.BadRequest("invalid_cursor", "cursor is not one this API returned")
	}
	if err != nil {
		return store.CampaignPage{}, storeErr(err)
	}
	return p, nil
}

// Get returns one campaign and a page of its targets (opts.Query may be a
// state to filter by).
func (s *Service) Get(ctx context.Context, id string, opts store.ListOptions) (store.Campaign, store.TargetPage, error) {
	c, err := s.store.GetCampaign(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Campaign{}, store.TargetPage{}, apierror.NotFound("campaign_not_found", "no onboarding campaign with id %q", id)
	}
	if err != nil {
		return store.Campaign{}, store.TargetPage{}, storeErr(err)
	}
	page, err := s.store.ListTargets(ctx, id, opts)
	if errors.Is(err, store.ErrInvalidCursor) {
		return store.Campaign{}, store.TargetPage{}, apierror.BadRequest("invalid_cursor", "cursor is not one this API returned")
	}
	if err != nil {
		return store.Campaign{}, store.TargetPage{}, storeErr(err)
	}
	return c, page, nil
}

// Resend queues a new invite for every target (or those in userIDs) that
// was invited or failed and has not linked; their old links stop working.
func (s *Service) Resend(ctx context.Context, actor, id string, userIDs []string) (int, error) {
	if len(userIDs) > MaxTargets {
		return 0, apierror.BadRequest("too_many_targets", "at most %d users", MaxTargets)
	}
	detail, _ := json.Marshal(map[string]any{"userIds": userIDs})
	n, err := s.store.ResendTargets(ctx, id, userIDs, s.now(), store.AuditEntry{Actor: actor, Action: "campaign.resend", Subject: id, Detail: string(detail)})
	if errors.Is(err, store.ErrNotFound) {
		return 0, apierror.NotFound("campaign_not_found", "no onboarding campaign with id %q", id)
	}
	if err != nil {
		return 0, storeErr(err)
	}
	return n, nil
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

func randomID(prefix string) (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("onboarding: random: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func storeErr(err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return apierror.Unavailable(err)
	}
	return fmt.Errorf("store: %w", err)
}
