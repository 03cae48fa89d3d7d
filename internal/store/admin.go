package store

import (
	"context"
	"errors"
	"time"
)

// Errors of the admin part of the store (wrapped; test with errors.Is).
var (
	// ErrExists: the row (an allowlist entry, an invite id, a campaign id)
	// is already there.
	ErrExists = errors.New("already exists")
	// ErrInviteUsed: the invite was consumed by another address.
	ErrInviteUsed = errors.New("invite already used")
	// ErrInviteExpired: the invite's expiry has passed.
	ErrInviteExpired = errors.New("invite expired")
	// ErrInviteRevoked: an admin revoked the invite.
	ErrInviteRevoked = errors.New("invite revoked")
)

// LoginPolicy is the run-time override of the configured login policy.
type LoginPolicy struct {
	Mode      string // link_only | auto_provision
	Guard     string // none | allowlist | invite | invite_or_allowlist
	UpdatedBy string
	UpdatedAt time.Time
}

// AllowlistEntry admits one address to auto-provisioning under the
// allowlist guards.
type AllowlistEntry struct {
	QortalAddress string
	Note          string
	AddedBy       string
	CreatedAt     time.Time
}

// AllowlistPage is one page of entries ordered by address.
type AllowlistPage struct {
	Entries    []AllowlistEntry
	NextCursor string
}

// Invite is a single-use admission ticket. Only the SHA-256 of its token is
// stored; the token itself exists only in the link handed to the user.
type Invite struct {
	ID              string // public handle (listing, revocation)
	TokenHash       string // lowercase hex SHA-256 of the token
	NextcloudUserID string // bound account to link; "" means a new account
	CampaignID      string // the onboarding campaign that sent it, if any
	Note            string
	CreatedBy       string
	CreatedAt       time.Time
	ExpiresAt       time.Time
	UsedAt          *time.Time
	UsedBy          string // the Qortal address that consumed it
	RevokedAt       *time.Time
}

// InvitePage is one page of invites, newest first.
type InvitePage struct {
	Invites    []Invite
	NextCursor string
}

// Channels an onboarding campaign delivers on.
const (
	ChannelNotification = "notification"
	ChannelEmail        = "email"
)

// TargetState is where one user of a campaign stands.
type TargetState string

const (
	TargetNotStarted TargetState = "not_started"
	// TargetSending: claimed by a worker that holds the lease.
	TargetSending TargetState = "sending"
	TargetInvited TargetState = "invited"
	TargetLinked  TargetState = "linked"
	TargetFailed  TargetState = "failed"
)

// Valid reports whether s is one of the known states.
func (s TargetState) Valid() bool {
	switch s {
	case TargetNotStarted, TargetSending, TargetInvited, TargetLinked, TargetFailed:
		return true
	}
	return false
}

// Campaign invites existing Nextcloud users to link a Qortal address. The
// templates are copied in at creation so later edits of the defaults do not
// change what a running campaign sends.
type Campaign struct {
	ID                string
	Channels          []string
	Selector          string // JSON: how the targets were chosen (for display)
	NotificationShort string
	NotificationLong  string
	EmailSubject      string
	EmailBody         string
	InviteTTL         time.Duration
	CreatedBy         string
	CreatedAt         time.Time
	// Counts is filled by reads: targets per state, every state present.
	Counts map[TargetState]int
}

// CampaignTarget is one user of a campaign.
type CampaignTarget struct {
	CampaignID      string
	NextcloudUserID string
	State           TargetState
	InviteID        string // the invite of the latest delivery
	Attempts        int    // deliveries started
	LastError       string
	LeaseOwner      string
	LeaseUntil      *time.Time
	SentAt          *time.Time
	UpdatedAt       time.Time
}

// CampaignPage is one page of campaigns, newest first.
type CampaignPage struct {
	Campaigns  []Campaign
	NextCursor string
}

// TargetPage is one page of a campaign's targets ordered by user id.
type TargetPage struct {
	Targets    []CampaignTarget
	NextCursor string
}

// TargetResult is how a delivery ended.
type TargetResult struct {
	State     TargetState // invited, linked or failed
	InviteID  string
	LastError string
	SentAt    *time.Time
}

// PolicyStore keeps the run-time login policy override.
type PolicyStore interface {
	// GetLoginPolicy returns the override; ErrNotFound when none is set
	// (the configured policy applies).
	GetLoginPolicy(ctx context.Context) (LoginPolicy, error)
	// SetLoginPolicy stores p as the override (UpdatedAt set by the store).
	SetLoginPolicy(ctx context.Context, p LoginPolicy, audit AuditEntry) (LoginPolicy, error)
	// ClearLoginPolicy removes the override; ErrNotFound when none was set.
	ClearLoginPolicy(ctx context.Context, audit AuditEntry) error
}

// AllowlistStore keeps the addresses the allowlist guards admit.
type AllowlistStore interface {
	// AddAllowlist inserts e (CreatedAt set by the store); ErrExists when
	// the address is already listed.
	AddAllowlist(ctx context.Context, e AllowlistEntry, audit AuditEntry) (AllowlistEntry, error)
	// RemoveAllowlist deletes the entry and returns it; ErrNotFound when absent.
	RemoveAllowlist(ctx context.Context, address string, audit AuditEntry) (AllowlistEntry, error)
	GetAllowlist(ctx context.Context, address string) (AllowlistEntry, error)
	// ListAllowlist pages by address; Query matches address and note.
	ListAllowlist(ctx context.Context, opts ListOptions) (AllowlistPage, error)
}

// InviteStore keeps invites. Consumption is exactly once across replicas.
type InviteStore interface {
	// CreateInvite inserts inv; ErrExists when its id or token hash is taken.
	CreateInvite(ctx context.Context, inv Invite, audit AuditEntry) (Invite, error)
	GetInvite(ctx context.Context, id string) (Invite, error)
	GetInviteByTokenHash(ctx context.Context, hash string) (Invite, error)
	// ConsumeInvite marks the invite used by address at now, atomically: of
	// concurrent consumers exactly one succeeds. Consuming again with the
	// same address succeeds (a retry after a crash). It fails with
	// ErrNotFound, ErrInviteRevoked, ErrInviteUsed or ErrInviteExpired. A
	// campaign invite's target becomes linked in the same transaction.
	ConsumeInvite(ctx context.Context, hash, address string, now time.Time, audit AuditEntry) (Invite, error)
	// ReleaseInvite undoes ConsumeInvite by address when what the invite
	// admitted could not be completed; the target goes back to invited.
	// ErrNotFound when the invite is not used by address.
	ReleaseInvite(ctx context.Context, hash, address string, audit AuditEntry) (Invite, error)
	// RevokeInvite revokes an unused invite: ErrNotFound, ErrInviteUsed.
	// Revoking twice is not an error (the first revocation time is kept).
	RevokeInvite(ctx context.Context, id string, now time.Time, audit AuditEntry) (Invite, error)
	// ListInvites pages newest first; Query matches id, bound user and note.
	ListInvites(ctx context.Context, opts ListOptions) (InvitePage, error)
}

// CampaignStore keeps onboarding campaigns and the state of every target.
// Delivery is claimed row by row with a lease, so replicas never send the
// same target twice and a stopped worker's claims can be found again.
type CampaignStore interface {
	// CreateCampaign inserts c and one not_started target per user id.
	CreateCampaign(ctx context.Context, c Campaign, userIDs []string, audit AuditEntry) (Campaign, error)
	GetCampaign(ctx context.Context, id string) (Campaign, error)
	ListCampaigns(ctx context.Context, opts ListOptions) (CampaignPage, error)
	// ListTargets pages a campaign's targets by user id; Query filters by
	// exact state when it is one, else by user id substring.
	ListTargets(ctx context.Context, campaignID string, opts ListOptions) (TargetPage, error)
	// ClaimTargets atomically moves up to n not_started targets (of any
	// campaign, oldest campaign first) to sending under owner until
	// leaseUntil, increments their Attempts and returns them.
	ClaimTargets(ctx context.Context, owner string, n int, now, leaseUntil time.Time) ([]CampaignTarget, error)
	// ReclaimStale turns sending targets whose lease ended before now into
	// failed with reason: a worker died mid-delivery, and whether the
	// message left cannot be known, so it is not sent again on its own.
	ReclaimStale(ctx context.Context, now time.Time, reason string) (int, error)
	// SetTargetInvite records the invite made for a claimed target before
	// anything is sent; ErrNotFound unless owner holds the claim.
	SetTargetInvite(ctx context.Context, campaignID, userID, owner, inviteID string) error
	// FinishTarget records the outcome of a claimed target and clears the
	// claim; ErrNotFound unless owner holds it.
	FinishTarget(ctx context.Context, campaignID, userID, owner string, r TargetResult) (CampaignTarget, error)
	// ReleaseTarget hands a claimed target back untouched (not_started,
	// attempt not counted) when a worker stops before delivering it.
	ReleaseTarget(ctx context.Context, campaignID, userID, owner string) error
	// ResendTargets resets invited and failed targets (all, or only those in
	// userIDs) to not_started and returns how many; their previous unused
	// invites are revoked in the same transaction.
	ResendTargets(ctx context.Context, campaignID string, userIDs []string, now time.Time, audit AuditEntry) (int, error)
}

// AdminStore is everything the policy, invite and onboarding services keep.
type AdminStore interface {
	PolicyStore
	AllowlistStore
	InviteStore
	CampaignStore
}
