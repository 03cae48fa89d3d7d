package policy

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/invite"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// The user-facing texts are part of the contract (the login page shows
// them, relying parties receive them), so they are spelled out here.
const (
	msgNotLinked      = "this Qortal address is not linked to an account here"
	msgBlocked        = "this Qortal address is blocked from signing in"
	msgNotAllowlisted = "this Qortal address is not on the list of addresses allowed to create an account here"
	msgInviteRequired = "an invite is required to create an account here"
	msgInviteOrList   = "an invite is required to create an account here, unless an administrator has allowlisted this Qortal address"
	msgInviteInvalid  = "this invite link is not valid"
	msgInviteRevoked  = "this invite was revoked by an administrator"
	msgInviteExpired  = "this invite has expired; ask for a new one"
	msgInviteUsed     = "this invite was already used"
	msgAddressElse    = "this Qortal address is already linked to another account than the one this invite is for"
	msgAccountElse    = "the account this invite is for is already linked to another Qortal address"
	msgInviteGone     = "the account this invite is for no longer exists"
)

// TestPolicyAndGuardMatrix: an unknown address, with or without an
// allowlist entry and an (unbound) invite, under every mode and guard.
func TestPolicyAndGuardMatrix(t *testing.T) {
	type outcome struct{ code, msg string } // code "" = admitted with a new account
	cases := []struct {
		mode, guard       string
		listed, hasInvite bool
		want              outcome
		inviteSpent       bool
	}{
		{"link_only", "none", false, false, outcome{"not_linked", msgNotLinked}, false},
		{"link_only", "invite", false, true, outcome{"not_linked", msgNotLinked}, false},
		{"link_only", "allowlist", true, false, outcome{"not_linked", msgNotLinked}, false},
		{"auto_provision", "none", false, false, outcome{}, false},
		{"auto_provision", "none", false, true, outcome{}, false},
		{"auto_provision", "allowlist", false, false, outcome{"not_allowlisted", msgNotAllowlisted}, false},
		{"auto_provision", "allowlist", false, true, outcome{"not_allowlisted", msgNotAllowlisted}, false},
		{"auto_provision", "allowlist", true, false, outcome{}, false},
		{"auto_provision", "invite", false, false, outcome{"invite_required", msgInviteRequired}, false},
		{"auto_provision", "invite", true, false, outcome{"invite_required", msgInviteRequired}, false},
		{"auto_provision", "invite", false, true, outcome{}, true},
		{"auto_provision", "invite_or_allowlist", false, false, outcome{"invite_required", msgInviteOrList}, false},
		{"auto_provision", "invite_or_allowlist", true, false, outcome{}, false},
		{"auto_provision", "invite_or_allowlist", true, true, outcome{}, false},
		{"auto_provision", "invite_or_allowlist", false, true, outcome{}, true},
	}
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		for _, tc := range cases {
			name := fmt.Sprintf("%s/%s/listed=%v/invite=%v", tc.mode, tc.guard, tc.listed, tc.hasInvite)
			t.Run(name, func(t *testing.T) {
				e := newEnv(t, open(t), tc.mode, tc.guard)
				addr := newAddress(t)
				if tc.listed {
					if _, err := e.svc.AllowAdd(t.Context(), admin, addr, ""); err != nil {
						t.Fatal(err)
					}
				}
				token := ""
				if tc.hasInvite {
					token = e.invite(t, "")
				}
				m, err := e.svc.Admit(t.Context(), addr, token)
				if tc.want.code != "" {
					wantDenial(t, err, tc.want.code, tc.want.msg)
					if _, err := e.st.GetMappingByAddress(t.Context(), addr); !errors.Is(err, store.ErrNotFound) {
						t.Fatalf("a denied admission left a mapping: %v", err)
					}
					if e.fake.CreateCount() != 0 {
						t.Fatal("a denied admission created a Nextcloud user")
					}
				} else {
					if err != nil {
						t.Fatalf("Admit: %v", err)
					}
					if m.QortalAddress != addr || m.NextcloudUserID != addr || m.Status != store.StatusLinked {
						t.Fatalf("mapping = %+v", m)
					}
					if _, ok := e.fake.User(addr); !ok || e.fake.CreateCount() != 1 {
						t.Fatalf("the Nextcloud account was not created once (creates %d)", e.fake.CreateCount())
					}
					if a := lastAction(t, e.st, "mapping.create"); a.Actor != "login:"+addr {
						t.Fatalf("mapping audit actor = %q, want login:%s", a.Actor, addr)
					}
				}
				if tc.hasInvite {
					inv, err := e.st.GetInviteByTokenHash(t.Context(), invite.HashToken(token))
					if err != nil {
						t.Fatal(err)
					}
					if spent := inv.UsedAt != nil; spent != tc.inviteSpent {
						t.Fatalf("invite spent = %v, want %v", spent, tc.inviteSpent)
					}
				}
			})
		}
	})
}

// lastAction finds the newest audit entry with this action.
func lastAction(t *testing.T, st store.Store, action string) store.AuditEntry {
	t.Helper()
	page, err := st.ListAudit(t.Context(), store.ListOptions{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range page.Entries {
		if a.Action == action {
			return a
		}
	}
	t.Fatalf("no %s audit entry", action)
	return store.AuditEntry{}
}

func TestExistingMappings(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		for _, mode := range [][2]string{{"link_only", "none"}, {"auto_provision", "none"}, {"auto_provision", "invite"}} {
			t.Run(mode[0]+"/"+mode[1], func(t *testing.T) {
				e := newEnv(t, open(t), mode[0], mode[1])
				linked, blocked, invited := newAddress(t), newAddress(t), newAddress(t)
				e.link(t, linked, "alice", store.StatusLinked)
				e.link(t, blocked, "bob", store.StatusBlocked)
				e.link(t, invited, "carol", store.StatusInvited)
				if m, err := e.svc.Admit(t.Context(), linked, ""); err != nil || m.NextcloudUserID != "alice" {
					t.Fatalf("linked address: %+v, %v", m, err)
				}
				_, err := e.svc.Admit(t.Context(), blocked, "")
				wantDenial(t, err, "blocked", msgBlocked)
				// Not even an invite for another account lets it in.
				e.fake.AddUser(ocsfake.User{ID: "bob2"})
				_, err = e.svc.Admit(t.Context(), blocked, e.invite(t, "bob2"))
				wantDenial(t, err, "blocked", msgBlocked)
				_, err = e.svc.Admit(t.Context(), invited, "")
				wantDenial(t, err, "not_linked", msgNotLinked)
				if e.fake.CreateCount() != 0 {
					t.Fatal("no account may be created for an existing mapping")
				}
			})
		}
	})
}

func TestBoundInvites(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open(t), "link_only", "none") // bound invites work under the strictest mode
		ctx := t.Context()
		e.fake.AddUser(ocsfake.User{ID: "dave", DisplayName: "Dave", Email: "dave@example.org"})
		addr := newAddress(t)
		token := e.invite(t, "dave")
		m, err := e.svc.Admit(ctx, addr, token)
		if err != nil || m.NextcloudUserID != "dave" || m.Email != "dave@example.org" || m.Status != store.StatusLinked {
			t.Fatalf("bound invite: %+v, %v", m, err)
		}
		if e.fake.CreateCount() != 0 {
			t.Fatal("a bound invite must link the existing account, not create one")
		}
		// The same person retrying (e.g. a second tab) still gets in.
		if m, err := e.svc.Admit(ctx, addr, token); err != nil || m.NextcloudUserID != "dave" {
			t.Fatalf("retry by the same address: %+v, %v", m, err)
		}
		_, err = e.svc.Admit(ctx, newAddress(t), token)
		wantDenial(t, err, "invite_used", msgInviteUsed)

		// An address linked elsewhere cannot take an invite for another account.
		e.fake.AddUser(ocsfake.User{ID: "erin"})
		_, err = e.svc.Admit(ctx, addr, e.invite(t, "erin"))
		wantDenial(t, err, "invite_bound_elsewhere", msgAddressElse)

		// An account linked since the invite was made cannot be taken over.
		e.fake.AddUser(ocsfake.User{ID: "frank"})
		frankToken := e.invite(t, "frank")
		e.link(t, newAddress(t), "frank", store.StatusLinked)
		_, err = e.svc.Admit(ctx, newAddress(t), frankToken)
		wantDenial(t, err, "invite_bound_elsewhere", msgAccountElse)
		inv, _ := e.st.GetInviteByTokenHash(ctx, invite.HashToken(frankToken))
		if inv.UsedAt != nil {
			t.Fatal("a refused admission must give the invite back")
		}

		// Deleted in Nextcloud after the invite was made (the fake never had it).
		gone, err := e.invites.Create(ctx, admin, invite.Request{NextcloudUserID: "gone", TTL: time.Hour, UserChecked: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Admit(ctx, newAddress(t), gone.Token)
		wantDenial(t, err, "invite_invalid", msgInviteGone)
	})
}

func TestInviteStates(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open(t), "auto_provision", "invite")
		ctx := t.Context()
		_, err := e.svc.Admit(ctx, newAddress(t), "not-a-token")
		wantDenial(t, err, "invite_invalid", msgInviteInvalid)
		unknown, _ := invite.NewToken()
		_, err = e.svc.Admit(ctx, newAddress(t), unknown)
		wantDenial(t, err, "invite_invalid", msgInviteInvalid)

		revoked, err := e.invites.Create(ctx, admin, invite.Request{TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.invites.Revoke(ctx, admin, revoked.Invite.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Admit(ctx, newAddress(t), revoked.Token)
		wantDenial(t, err, "invite_revoked", msgInviteRevoked)

		expiring := e.invite(t, "")
		e.clock.Advance(time.Hour) // the TTL exactly: already too late
		_, err = e.svc.Admit(ctx, newAddress(t), expiring)
		wantDenial(t, err, "invite_expired", msgInviteExpired)
		if e.fake.CreateCount() != 0 {
			t.Fatal("no account may be created with a bad invite")
		}
	})
}

// A Nextcloud failure is an error, not a denial, and does not burn the invite.
func TestNextcloudFailureGivesTheInviteBack(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open(t), "auto_provision", "invite")
		token := e.invite(t, "")
		addr := newAddress(t)
		e.fake.FailNext(ocsfake.RouteGetUser, http.StatusBadGateway, 1)
		_, err := e.svc.Admit(t.Context(), addr, token)
		var d *Denial
		var ae *apierror.Error
		if errors.As(err, &d) || !errors.As(err, &ae) || ae.Status != http.StatusBadGateway {
			t.Fatalf("want a 502 error, got %v", err)
		}
		if m, err := e.svc.Admit(t.Context(), addr, token); err != nil || m.QortalAddress != addr {
			t.Fatalf("the retry with the same invite: %+v, %v", m, err)
		}
	})
}

// Many people racing with one invite: exactly one gets an account.
func TestInviteSingleUseUnderRace(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open(t), "auto_provision", "invite")
		token := e.invite(t, "")
		const n = 12
		addrs := make([]string, n)
		for i := range addrs {
			addrs[i] = newAddress(t)
		}
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make([]error, n)
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = e.svc.Admit(t.Context(), addrs[i], token)
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for _, err := range errs {
			var d *Denial
			switch {
			case err == nil:
				wins++
			case errors.As(err, &d) && d.Code == "invite_used":
			default:
				t.Errorf("loser got %v, want invite_used", err)
			}
		}
		if wins != 1 || e.fake.CreateCount() != 1 {
			t.Fatalf("%d admitted, %d accounts created; want exactly 1 each", wins, e.fake.CreateCount())
		}
	})
}
