// Package invite issues and checks invite tokens: 256-bit random, single
// use, with an expiry, optionally bound to an existing Nextcloud account.
// The store keeps only the SHA-256 of a token, so a token is shown exactly
// once, in the answer that creates it (or in the message a campaign sends).
package invite

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Limits on what an admin may ask for.
const (
	MinTTL = time.Minute
	MaxTTL = 90 * 24 * time.Hour
)

// tokenLen is the length of a token: 32 random bytes in unpadded base64url.
const tokenLen = 43

// UserLookup is the part of the Nextcloud client invites need.
type UserLookup interface {
	GetUser(ctx context.Context, id string) (nextcloud.User, error)
}

// Service creates, lists, revokes and checks invites.
type Service struct {
	store store.Store
	users UserLookup // nil when Nextcloud is not configured
	ttl   time.Duration
	base  string
	log   *slog.Logger
	now   func() time.Time
}

// Deps are the Service's collaborators.
type Deps struct {
	Store store.Store
	Users UserLookup
	// Logger and Now default to a discarding logger and time.Now.
	Logger *slog.Logger
	Now    func() time.Time
}

// New builds a Service.
func New(cfg config.Config, d Deps) *Service {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &Service{store: d.Store, ttl: cfg.Policy.InviteTTL, base: cfg.OnboardingBase(), log: d.Logger, now: d.Now}
	if d.Users != nil {
		s.users = d.Users
	}
	return s
}

// Request describes an invite to create.
type Request struct {
	NextcloudUserID string        // "" for a new account
	TTL             time.Duration // 0: the configured default
	Note            string
	CampaignID      string // set by onboarding
	// UserChecked says the caller has just confirmed the bound user exists
	// and is unlinked (onboarding does), so Create need not ask again.
	UserChecked bool
}

// Created is a new invite with its token, shown this once.
type Created struct {
	Invite store.Invite
	Token  string
	Link   string
}

// Create issues an invite. actor names who asked, for the audit log.
func (s *Service) Create(ctx context.Context, actor string, req Request) (Created, error) {
	if req.TTL == 0 {
		req.TTL = s.ttl
	}
	if req.TTL < MinTTL || req.TTL > MaxTTL {
		return Created{}, apierror.BadRequest("invalid_ttl", "ttl must be between %s and %s", MinTTL, MaxTTL)
	}
	req.Note = strings.TrimSpace(req.Note)
	if utf8.RuneCountInString(req.Note) > 200 || strings.ContainsRune(req.Note, 0) {
		return Created{}, apierror.BadRequest("invalid_note", "note must be at most 200 characters")
	}
	if req.NextcloudUserID != "" && !req.UserChecked {
		if err := s.checkUser(ctx, req.NextcloudUserID); err != nil {
			return Created{}, err
		}
	}
	token, err := NewToken()
	if err != nil {
		return Created{}, err
	}
	id, err := randomID()
	if err != nil {
		return Created{}, err
	}
	now := s.now().UTC().Truncate(time.Second)
	inv := store.Invite{
		ID: id, TokenHash: HashToken(token), NextcloudUserID: req.NextcloudUserID, CampaignID: req.CampaignID,
		Note: req.Note, CreatedBy: actor, CreatedAt: now, ExpiresAt: now.Add(req.TTL),
	}
	detail, _ := json.Marshal(map[string]any{"nextcloudUserId": inv.NextcloudUserID, "campaignId": inv.CampaignID,
		"expiresAt": inv.ExpiresAt, "note": inv.Note})
	inv, err = s.store.CreateInvite(ctx, inv, store.AuditEntry{Actor: actor, Action: "invite.create", Subject: id, Detail: string(detail)})
	if err != nil {
		return Created{}, storeErr(err)
	}
	return Created{Invite: inv, Token: token, Link: s.Link(token)}, nil
}

// checkUser refuses invites for accounts that do not exist or are linked.
func (s *Service) checkUser(ctx context.Context, uid string) error {
	if len(uid) > 64 || strings.ContainsAny(uid, "/\x00\r\n") {
		return apierror.BadRequest("invalid_user_id", "nextcloudUserId %q is not a Nextcloud user id", uid)
	}
	if m, err := s.store.GetMappingByUser(ctx, uid); err == nil {
		return apierror.Conflict("user_linked", "Nextcloud user %q is already linked to address %s", uid, m.QortalAddress)
	} else if !errors.Is(err, store.ErrNotFound) {
		return storeErr(err)
	}
	if s.users == nil {
		return apierror.New(http.StatusBadGateway, "nextcloud_not_configured", "nextcloud is not configured (set nextcloud.url, user and app_password)")
	}
	if _, err := s.users.GetUser(ctx, uid); errors.Is(err, nextcloud.ErrNotFound) {
		return apierror.NotFound("nextcloud_user_not_found", "Nextcloud user %q does not exist", uid)
	} else if err != nil {
		return apierror.Wrap(err, http.StatusBadGateway, "nextcloud_error", "could not check the Nextcloud user: %v", err)
	}
	return nil
}

// Link is the onboarding URL for a token.
func (s *Service) Link(token string) string { return s.base + "/onboard/" + token }

// Get returns one invite.
func (s *Service) Get(ctx context.Context, id string) (store.Invite, error) {
	inv, err := s.store.GetInvite(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Invite{}, apierror.NotFound("invite_not_found", "no invite with id %q", id)
	}
	if err != nil {
		return store.Invite{}, storeErr(err)
	}
	return inv, nil
}

// List pages invites, newest first.
func (s *Service) List(ctx context.Context, opts store.ListOptions) (store.InvitePage, error) {
	if len(opts.Query) > 200 {
		return store.InvitePage{}, apierror.BadRequest("invalid_query", "q must be at most 200 characters")
	}
	p, err := s.store.ListInvites(ctx, opts)
	if errors.Is(err, store.ErrInvalidCursor) {
		return store.InvitePage{}, apierror.BadRequest("invalid_cursor", "cursor is not one this API returned")
	}
	if err != nil {
		return store.InvitePage{}, storeErr(err)
	}
	return p, nil
}

// Revoke stops an unused invite from working.
func (s *Service) Revoke(ctx context.Context, actor, id string) (store.Invite, error) {
	inv, err := s.store.RevokeInvite(ctx, id, s.now(), store.AuditEntry{Actor: actor, Action: "invite.revoke", Subject: id})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Invite{}, apierror.NotFound("invite_not_found", "no invite with id %q", id)
	case errors.Is(err, store.ErrInviteUsed):
		return store.Invite{}, apierror.Conflict("invite_used", "invite %s was already used and cannot be revoked", id)
	case err != nil:
		return store.Invite{}, storeErr(err)
	}
	return inv, nil
}

// Lookup finds the invite a token names and checks it is usable by
// address: store.ErrNotFound (unknown or malformed), ErrInviteRevoked,
// ErrInviteUsed (by another address) or ErrInviteExpired.
func (s *Service) Lookup(ctx context.Context, token, address string) (store.Invite, error) {
	if !ValidToken(token) {
		return store.Invite{}, fmt.Errorf("invite: malformed token: %w", store.ErrNotFound)
	}
	inv, err := s.store.GetInviteByTokenHash(ctx, HashToken(token))
	if err != nil {
		return store.Invite{}, err
	}
	switch {
	case inv.RevokedAt != nil:
		return store.Invite{}, store.ErrInviteRevoked
	case inv.UsedAt != nil && inv.UsedBy != address:
		return store.Invite{}, store.ErrInviteUsed
	case inv.UsedAt == nil && !s.now().Before(inv.ExpiresAt):
		return store.Invite{}, store.ErrInviteExpired
	}
	return inv, nil
}

// Consume takes the invite for address, once across replicas.
func (s *Service) Consume(ctx context.Context, token, address, actor string) (store.Invite, error) {
	h := HashToken(token)
	return s.store.ConsumeInvite(ctx, h, address, s.now(), store.AuditEntry{Actor: actor, Action: "invite.consume",
		Detail: fmt.Sprintf(`{"address":%q}`, address)})
}

// Release gives the invite back when what it admitted failed.
func (s *Service) Release(ctx context.Context, token, address, actor string) error {
	_, err := s.store.ReleaseInvite(ctx, HashToken(token), address, store.AuditEntry{Actor: actor, Action: "invite.release",
		Detail: fmt.Sprintf(`{"address":%q}`, address)})
	return err
}

// Status is how an invite stands at now: active, used, revoked or expired.
func Status(inv store.Invite, now time.Time) string {
	switch {
	case inv.UsedAt != nil:
		return "used"
	case inv.RevokedAt != nil:
		return "revoked"
	case !now.Before(inv.ExpiresAt):
		return "expired"
	}
	return "active"
}

// NewToken returns a fresh 256-bit token.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("invite: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ValidToken checks a token's shape before any lookup.
func ValidToken(t string) bool {
	if len(t) != tokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(t)
	return err == nil
}

// HashToken is what the store keeps: lowercase hex SHA-256. Tokens are 256
// random bits, so a fast hash is enough (nothing to brute-force).
func HashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

func randomID() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("invite: random: %w", err)
	}
	return "inv_" + base64.RawURLEncoding.EncodeToString(b), nil
}

func storeErr(err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return apierror.Unavailable(err)
	}
	return fmt.Errorf("store: %w", err)
}
