package backend

import (
	"errors"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func TestAdminCursorsAreNotInterchangeable(t *testing.T) {
	if _, err := ParseInviteCursor(CampaignCursor(7)); !errors.Is(err, store.ErrInvalidCursor) {
		t.Errorf("a campaign cursor accepted for invites: %v", err)
	}
	if _, err := ParseAllowlistCursor(MappingCursor("Qabc")); !errors.Is(err, store.ErrInvalidCursor) {
		t.Errorf("a mapping cursor accepted for the allowlist: %v", err)
	}
	if n, err := ParseInviteCursor(InviteCursor(42)); err != nil || n != 42 {
		t.Errorf("round trip: %d, %v", n, err)
	}
	if u, err := ParseTargetCursor(TargetCursor("bob")); err != nil || u != "bob" {
		t.Errorf("round trip: %q, %v", u, err)
	}
}

func TestInviteUnusableSaysWhy(t *testing.T) {
	now := time.Now()
	used := store.Invite{UsedAt: &now, UsedBy: "Qa"}
	if _, err := InviteUnusable(used, "Qa"); err != nil {
		t.Errorf("same address: %v", err)
	}
	if _, err := InviteUnusable(used, "Qb"); !errors.Is(err, store.ErrInviteUsed) {
		t.Errorf("other address: %v", err)
	}
	revoked := store.Invite{RevokedAt: &now}
	if _, err := InviteUnusable(revoked, "Qa"); !errors.Is(err, store.ErrInviteRevoked) {
		t.Errorf("revoked: %v", err)
	}
	if _, err := InviteUnusable(store.Invite{}, "Qa"); !errors.Is(err, store.ErrInviteExpired) {
		t.Errorf("neither used nor revoked: %v", err)
	}
}
