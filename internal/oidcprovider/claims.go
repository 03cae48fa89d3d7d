package oidcprovider

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Claim names beyond the standard ones.
const (
	ClaimQortalAddress = "qortal_address"
	ClaimGroups        = "groups"
)

// errNotLinked: the address behind a token is no longer linked to the user
// (mapping deleted, blocked or re-linked). Tokens for it must stop working.
var errNotLinked = errors.New("qortal address is no longer linked to this user")

// linkedMapping returns the mapping behind subject/address, refusing blocked
// or changed links: a token outliving an admin's unlink must not work.
func (p *Provider) linkedMapping(ctx context.Context, subject, address string) (store.Mapping, error) {
	var (
		m   store.Mapping
		err error
	)
	switch sc := scopeOf(ctx); {
	case sc != nil && sc.mappingOf == address && address != "" && sc.mapping != nil:
		m = *sc.mapping // read by this request's code exchange, a moment ago
	case sc != nil && sc.mappingOf == address && address != "":
		err = store.ErrNotFound
	default:
		m, err = p.store.GetMappingByAddress(ctx, address)
	}
	if errors.Is(err, store.ErrNotFound) {
		if p.cfg.Nextcloud.URL == "" && subject == address && address != "" {
			// Standalone (no Nextcloud): the address is its own subject
			// and needs no mapping. With a Nextcloud configured a missing
			// mapping always means unlinked, even when the user id
			// template made the subject equal to the address.
			return store.Mapping{QortalAddress: address, NextcloudUserID: address, Status: store.StatusLinked}, nil
		}
		return m, errNotLinked
	}
	if err != nil {
		return m, fmt.Errorf("load mapping: %w", err)
	}
	if m.NextcloudUserID != subject || m.Status == store.StatusBlocked {
		return m, errNotLinked
	}
	return m, nil
}

// setUserinfo fills the claims for subject under scopes. Every mapped claim
// is a JSON string (user_oidc requires it); groups is an array of strings.
//
// email_verified is true only when the operator vouches for admin-entered
// emails (oidc.emails_verified): the broker itself never verifies one, and a
// relying party may trust a verified email for account matching.
func (p *Provider) setUserinfo(ctx context.Context, info *oidc.UserInfo, subject, address string, scopes []string) error {
	m, err := p.linkedMapping(ctx, subject, address)
	if err != nil {
		return err
	}
	info.Subject = subject
	info.AppendClaims(ClaimQortalAddress, address)
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.PreferredUsername = subject
		info.Name = p.displayName(ctx, m)
	}
	if slices.Contains(scopes, oidc.ScopeEmail) && m.Email != "" {
		info.Email = m.Email
		info.EmailVerified = oidc.Bool(p.cfg.OIDC.EmailsVerified)
	}
	if len(p.cfg.OIDC.GroupsClaim) > 0 && (slices.Contains(scopes, oidc.ScopeProfile) || slices.Contains(scopes, ScopeGroups)) {
		info.AppendClaims(ClaimGroups, slices.Clone(p.cfg.OIDC.GroupsClaim))
	}
	return nil
}

// displayName is the name claim: the registered Qortal name (when a node is
// configured and the address has one), else the mapping's display name,
// else the address itself.
func (p *Provider) displayName(ctx context.Context, m store.Mapping) string {
	// A registered Qortal name is what the user chose for themselves on
	// chain, so it wins when a node is configured; names can be sold, which
	// is why it is only ever a display value and never the subject.
	if p.names != nil {
		if n := p.names.lookup(ctx, m.QortalAddress); n != "" {
			return n
		}
	}
	if m.DisplayName != "" {
		return m.DisplayName
	}
	return m.QortalAddress
}
