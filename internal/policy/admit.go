package policy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/provision"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Standalone is the identity a proven address has without Nextcloud: the
// subject is the address itself, so it is the same for one address forever.
func Standalone(address string) store.Mapping {
	return store.Mapping{QortalAddress: address, NextcloudUserID: address, Status: store.StatusLinked}
}

// Admit decides whether address, whose control the caller has just
// verified, may log in, and returns its (linked) mapping. inviteToken is
// optional. Refusals are *Denial; anything else is an operational error
// (Nextcloud or the store failing) to report as such.
//
// The rules, in order:
//   - a blocked mapping never logs in;
//   - a linked mapping logs in; an invite bound to that same account is
//     consumed (its campaign target becomes linked), one bound to another
//     account is refused;
//   - an invite bound to an existing account links the address to it,
//     whatever the mode: the admin chose that account for this person;
//   - standalone (no Nextcloud) admits every other address as itself;
//   - link_only refuses everything else;
//   - auto_provision creates the account (provision.Service.Upsert) when the
//     guard is satisfied: none, allowlist (address listed), invite (a valid
//     invite, consumed), invite_or_allowlist (either; the allowlist is
//     checked first so an invite is only spent when needed).
//
// An invite is consumed atomically before the account is made, so two
// people racing with one invite cannot both get in, and given back if
// making the account fails, so a Nextcloud hiccup does not burn it.
func (s *Service) Admit(ctx context.Context, address, inviteToken string) (store.Mapping, error) {
	if err := validAddress(address); err != nil {
		return store.Mapping{}, err
	}
	actor := "login:" + address
	var inv *store.Invite
	if inviteToken != "" {
		i, err := s.invites.Lookup(ctx, inviteToken, address)
		if err != nil {
			return store.Mapping{}, inviteDenial(err)
		}
		inv = &i
	}

	m, err := s.store.GetMappingByAddress(ctx, address)
	switch {
	case err == nil && m.Status == store.StatusBlocked:
		return store.Mapping{}, deny(denyBlocked)
	case err == nil && m.Status == store.StatusLinked:
		if inv == nil || inv.NextcloudUserID == "" {
			return m, nil
		}
		if !strings.EqualFold(inv.NextcloudUserID, m.NextcloudUserID) {
			return store.Mapping{}, deny(denyAddressElse)
		}
		if _, err := s.invites.Consume(ctx, inviteToken, address, actor); err != nil {
			return store.Mapping{}, inviteDenial(err)
		}
		return m, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return store.Mapping{}, storeErr(err)
	}
	pol, err := s.Current(ctx)
	if err != nil {
		return store.Mapping{}, err
	}
	if pol.Mode == ModeStandalone {
		return Standalone(address), nil
	}
	if m.Status == store.StatusInvited {
		return store.Mapping{}, deny(denyNotLinked) // invited: not an account yet
	}

	if inv != nil && inv.NextcloudUserID != "" {
		return s.withInvite(ctx, *inv, inviteToken, address, func() (store.Mapping, error) {
			return s.prov.Link(ctx, actor, address, inv.NextcloudUserID)
		})
	}
	if pol.Mode != ModeAutoProvision {
		return store.Mapping{}, deny(denyNotLinked)
	}
	upsert := func() (store.Mapping, error) {
		res, err := s.prov.Upsert(ctx, actor, provision.Request{QortalAddress: address})
		return res.Mapping, err
	}
	switch pol.Guard {
	case GuardNone:
		return s.provisioned(upsert())
	case GuardAllowlist:
		ok, err := s.allowlisted(ctx, address)
		if err != nil {
			return store.Mapping{}, err
		}
		if !ok {
			return store.Mapping{}, deny(denyNotAllowlisted)
		}
		return s.provisioned(upsert())
	case GuardInvite:
		if inv == nil {
			return store.Mapping{}, deny(denyInviteRequired)
		}
		return s.withInvite(ctx, *inv, inviteToken, address, upsert)
	case GuardInviteOrAllowlist:
		ok, err := s.allowlisted(ctx, address)
		if err != nil {
			return store.Mapping{}, err
		}
		if ok {
			return s.provisioned(upsert())
		}
		if inv == nil {
			return store.Mapping{}, deny(denyInviteOrList)
		}
		return s.withInvite(ctx, *inv, inviteToken, address, upsert)
	}
	return store.Mapping{}, fmt.Errorf("policy: unknown guard %q", pol.Guard)
}

// withInvite consumes the invite, runs create, and gives the invite back if
// create fails.
//
// The same address may be admitted by two requests at once (a double submit,
// or two replicas): consuming is idempotent for the address that holds the
// invite, so both get past Consume, and one may fail while the other
// succeeds. Two rules keep the invite single use whatever the interleaving:
// a failed request does not give the invite back when the address is by now
// linked to the account the invite stands for (the other request used it),
// and a successful request takes the invite again after creating the
// account, in case a failed one gave it back in between.
func (s *Service) withInvite(ctx context.Context, inv store.Invite, token, address string, create func() (store.Mapping, error)) (store.Mapping, error) {
	actor := "login:" + address
	if _, err := s.invites.Consume(ctx, token, address, actor); err != nil {
		return store.Mapping{}, inviteDenial(err)
	}
	m, err := s.provisioned(create())
	// Detached: the caller may have gone, but the invite must end up right.
	dctx := context.WithoutCancel(ctx)
	if err != nil {
		if s.admittedElsewhere(dctx, inv, address) {
			return store.Mapping{}, err
		}
		if rerr := s.invites.Release(dctx, token, address, actor); rerr != nil {
			s.log.WarnContext(ctx, "could not give an invite back after a failed admission", "address", address, "err", rerr)
		}
		return store.Mapping{}, err
	}
	if _, cerr := s.invites.Consume(dctx, token, address, actor); cerr != nil {
		// The account exists; refusing the login now would not undo it.
		s.log.WarnContext(ctx, "an invite given back by a concurrent failed admission could not be taken again",
			"address", address, "invite", inv.ID, "err", cerr)
	}
	return m, nil
}

// admittedElsewhere says whether address is already linked to the account
// inv stands for (any account for an unbound invite), i.e. a concurrent
// request admitted it with this invite.
func (s *Service) admittedElsewhere(ctx context.Context, inv store.Invite, address string) bool {
	m, err := s.store.GetMappingByAddress(ctx, address)
	if err != nil {
		return false
	}
	return m.Status == store.StatusLinked && (inv.NextcloudUserID == "" || strings.EqualFold(inv.NextcloudUserID, m.NextcloudUserID))
}

// provisioned turns provisioning results into admission results: conflicts
// about the invite's account become denials, a mapping blocked by a
// concurrent admin is refused.
func (s *Service) provisioned(m store.Mapping, err error) (store.Mapping, error) {
	var ae *apierror.Error
	switch {
	case errors.As(err, &ae) && ae.Code == "user_linked":
		return store.Mapping{}, deny(denyAccountElse)
	case errors.As(err, &ae) && ae.Code == "address_linked":
		return store.Mapping{}, deny(denyAddressElse)
	case errors.As(err, &ae) && ae.Code == "nextcloud_user_not_found":
		return store.Mapping{}, deny(denyInviteGone)
	case errors.As(err, &ae) && ae.Code == "nextcloud_user_exists":
		return store.Mapping{}, deny(denyUserExists)
	case err != nil:
		return store.Mapping{}, err
	case m.Status == store.StatusBlocked:
		return store.Mapping{}, deny(denyBlocked)
	case m.Status != store.StatusLinked:
		return store.Mapping{}, deny(denyNotLinked)
	}
	return m, nil
}

func inviteDenial(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return deny(denyInviteInvalid)
	case errors.Is(err, store.ErrInviteRevoked):
		return deny(denyInviteRevoked)
	case errors.Is(err, store.ErrInviteExpired):
		return deny(denyInviteExpired)
	case errors.Is(err, store.ErrInviteUsed):
		return deny(denyInviteUsed)
	}
	return storeErr(err)
}

// CheckInvite says whether an invite link is worth showing the sign page
// for: nil, a *Denial naming why not, or an operational error. Admit checks
// again (and atomically) when the signature arrives.
func (s *Service) CheckInvite(ctx context.Context, token string) error {
	if _, err := s.invites.Lookup(ctx, token, ""); err != nil {
		return inviteDenial(err)
	}
	return nil
}
