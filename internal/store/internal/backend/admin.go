package backend

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Rules for the admin tables (policy, allowlist, invites, campaigns), shared
// by both backends like the rest of this package.

const (
	maxNote     = 1024
	maxTemplate = 8192
	// MaxCampaignTargets bounds one campaign (one transaction inserts them).
	MaxCampaignTargets = 10000
	// MaxClaim bounds one ClaimTargets call.
	MaxClaim = 100
)

// CheckPolicy validates a login policy override.
func CheckPolicy(p store.LoginPolicy) error {
	switch p.Mode {
	case "link_only", "auto_provision":
	default:
		return fmt.Errorf("policy mode %q is not link_only or auto_provision", p.Mode)
	}
	switch p.Guard {
	case "none", "allowlist", "invite", "invite_or_allowlist":
	default:
		return fmt.Errorf("policy guard %q is not none, allowlist, invite or invite_or_allowlist", p.Guard)
	}
	return checkText("policy updated by", p.UpdatedBy, maxShort, true)
}

// CheckAllowlist validates an allowlist entry.
func CheckAllowlist(e store.AllowlistEntry) error {
	if err := CheckAddress(e.QortalAddress); err != nil {
		return err
	}
	if err := checkText("allowlist note", e.Note, maxNote, false); err != nil {
		return err
	}
	return checkText("allowlist added by", e.AddedBy, maxShort, true)
}

// CheckTokenHash accepts 64 lowercase hex digits.
func CheckTokenHash(h string) error {
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return fmt.Errorf("invite token hash must be 64 lowercase hex digits")
	}
	return nil
}

// Invite validates a new invite and normalises its times.
func Invite(inv store.Invite, now time.Time) (store.Invite, error) {
	if inv.CreatedAt.IsZero() {
		inv.CreatedAt = now
	}
	inv.CreatedAt, inv.ExpiresAt = Time(inv.CreatedAt), Time(inv.ExpiresAt)
	if inv.UsedAt != nil || inv.RevokedAt != nil || inv.UsedBy != "" {
		return inv, fmt.Errorf("a new invite cannot be used or revoked")
	}
	if err := checkText("invite id", inv.ID, maxShort, true); err != nil {
		return inv, err
	}
	if err := CheckTokenHash(inv.TokenHash); err != nil {
		return inv, err
	}
	if err := checkText("invite user id", inv.NextcloudUserID, maxUserID, false); err != nil {
		return inv, err
	}
	if err := checkText("invite campaign id", inv.CampaignID, maxShort, false); err != nil {
		return inv, err
	}
	if err := checkText("invite note", inv.Note, maxNote, false); err != nil {
		return inv, err
	}
	if err := checkText("invite created by", inv.CreatedBy, maxShort, true); err != nil {
		return inv, err
	}
	if err := checkTime("invite expiry", inv.ExpiresAt); err != nil {
		return inv, err
	}
	if !inv.ExpiresAt.After(inv.CreatedAt) {
		return inv, fmt.Errorf("invite expires at %s, not after its creation %s", inv.ExpiresAt, inv.CreatedAt)
	}
	return inv, nil
}

// Campaign validates a new campaign and its target list.
func Campaign(c store.Campaign, userIDs []string, now time.Time) (store.Campaign, error) {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	c.CreatedAt = Time(c.CreatedAt)
	if err := checkText("campaign id", c.ID, maxShort, true); err != nil {
		return c, err
	}
	if len(c.Channels) == 0 {
		return c, fmt.Errorf("campaign needs at least one channel")
	}
	seen := map[string]bool{}
	for _, ch := range c.Channels {
		if ch != store.ChannelNotification && ch != store.ChannelEmail {
			return c, fmt.Errorf("campaign channel %q is not notification or email", ch)
		}
		if seen[ch] {
			return c, fmt.Errorf("campaign channel %q given twice", ch)
		}
		seen[ch] = true
	}
	if c.Selector == "" {
		c.Selector = "{}"
	}
	if !json.Valid([]byte(c.Selector)) {
		return c, fmt.Errorf("campaign selector is not valid JSON")
	}
	for _, f := range []struct{ name, v string }{
		{"notification short template", c.NotificationShort}, {"notification long template", c.NotificationLong},
		{"email subject template", c.EmailSubject}, {"email body template", c.EmailBody},
	} {
		if err := checkText(f.name, f.v, maxTemplate, false); err != nil {
			return c, err
		}
	}
	c.InviteTTL = c.InviteTTL.Truncate(time.Second) // stored in whole seconds
	if c.InviteTTL < time.Second {
		return c, fmt.Errorf("campaign invite ttl must be at least a second")
	}
	if err := checkText("campaign created by", c.CreatedBy, maxShort, true); err != nil {
		return c, err
	}
	if len(userIDs) == 0 || len(userIDs) > MaxCampaignTargets {
		return c, fmt.Errorf("campaign needs 1..%d targets, got %d", MaxCampaignTargets, len(userIDs))
	}
	users := map[string]bool{}
	for _, u := range userIDs {
		if err := CheckUserID(u); err != nil {
			return c, err
		}
		if users[u] {
			return c, fmt.Errorf("campaign target %q given twice", u)
		}
		users[u] = true
	}
	return c, nil
}

// CheckTargetResult validates the outcome of a delivery.
func CheckTargetResult(r store.TargetResult) error {
	switch r.State {
	case store.TargetInvited, store.TargetLinked, store.TargetFailed:
	default:
		return fmt.Errorf("a delivery ends invited, linked or failed, not %q", r.State)
	}
	if err := checkText("target invite id", r.InviteID, maxShort, false); err != nil {
		return err
	}
	return checkText("target error", r.LastError, maxNote, false)
}

// TruncateError cuts an error message to what a target row keeps.
func TruncateError(s string) string {
	if len(s) <= maxNote {
		return s
	}
	return strings.ToValidUTF8(s[:maxNote], "")
}

// Cursor prefixes of the admin listings (see cursor.go).
const (
	allowlistPrefix = "l:"
	invitePrefix    = "i:"
	campaignPrefix  = "c:"
	targetPrefix    = "t:"
)

// AllowlistCursor encodes the position after this address.
func AllowlistCursor(address string) string { return encode(allowlistPrefix, address) }

// ParseAllowlistCursor returns the address to resume after.
func ParseAllowlistCursor(cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	a, err := decode(allowlistPrefix, cursor)
	if err != nil {
		return "", err
	}
	if CheckAddress(a) != nil {
		return "", fmt.Errorf("%w: bad address", store.ErrInvalidCursor)
	}
	return a, nil
}

// TargetCursor encodes the position after this user id.
func TargetCursor(userID string) string { return encode(targetPrefix, userID) }

// ParseTargetCursor returns the user id to resume after.
func ParseTargetCursor(cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	u, err := decode(targetPrefix, cursor)
	if err != nil {
		return "", err
	}
	if CheckUserID(u) != nil {
		return "", fmt.Errorf("%w: bad user id", store.ErrInvalidCursor)
	}
	return u, nil
}

// InviteCursor and CampaignCursor encode the position after a row's seq
// (listings are newest first).
func InviteCursor(seq int64) string   { return encode(invitePrefix, strconv.FormatInt(seq, 10)) }
func CampaignCursor(seq int64) string { return encode(campaignPrefix, strconv.FormatInt(seq, 10)) }

// ParseInviteCursor returns the seq to resume before (0: first page).
func ParseInviteCursor(cursor string) (int64, error) { return parseSeq(invitePrefix, cursor) }

// ParseCampaignCursor returns the seq to resume before (0: first page).
func ParseCampaignCursor(cursor string) (int64, error) { return parseSeq(campaignPrefix, cursor) }

func parseSeq(prefix, cursor string) (int64, error) {
	if cursor == "" {
		return 0, nil
	}
	s, err := decode(prefix, cursor)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%w: bad position", store.ErrInvalidCursor)
	}
	return n, nil
}

// EmptyCounts is a count per target state, all zero.
func EmptyCounts() map[store.TargetState]int {
	return map[store.TargetState]int{store.TargetNotStarted: 0, store.TargetSending: 0,
		store.TargetInvited: 0, store.TargetLinked: 0, store.TargetFailed: 0}
}

// InviteUnusable says why a conditional consume of cur by address updated
// nothing. A consumption by the same address is reported as success (nil
// error): it is a retry of a login that already took the invite.
func InviteUnusable(cur store.Invite, address string) (store.Invite, error) {
	switch {
	case cur.RevokedAt != nil:
		return store.Invite{}, store.ErrInviteRevoked
	case cur.UsedAt != nil && cur.UsedBy == address:
		return cur, nil
	case cur.UsedAt != nil:
		return store.Invite{}, store.ErrInviteUsed
	default:
		return store.Invite{}, store.ErrInviteExpired
	}
}
