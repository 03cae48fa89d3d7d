package oidcprovider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// replayedRequest stands for a code that was already redeemed. It carries
// only what op checks before issuing tokens (client, redirect uri, PKCE), so
// a replay revokes the code's grant only when it would otherwise have been
// accepted: someone who merely saw the code cannot log the user out with it.
func replayedRequest(rc store.RedeemedCode) *authRequest {
	return &authRequest{
		r: store.AuthRequest{
			ClientID: rc.ClientID, RedirectURI: rc.RedirectURI, ResponseType: string(oidc.ResponseTypeCode),
			CodeChallenge: rc.CodeChallenge, CodeChallengeMethod: rc.CodeChallengeMethod, Done: true,
		},
		codeHash: rc.Hash,
		replayed: true,
	}
}

// codeTokens issues the tokens for a code exchange. It runs after op has
// checked the client, redirect uri and PKCE, so a failed attempt does not
// burn the code, but only one exchange can ever succeed: the store redeems
// the code, stores the tokens (under a new grant id, their refresh family)
// and deletes the code and its auth request in one transaction. A replay
// stores nothing and revokes what the first exchange issued.
func (s *storage) codeTokens(ctx context.Context, ar *authRequest, withRefresh bool) (access store.AccessToken, refresh string, err error) {
	if ar.codeHash == "" {
		// Only the code flow is offered: tokens always redeem a code.
		return access, "", errors.New("token request for an auth request without its code")
	}
	grant, err := randomID(familyPrefix)
	if err != nil {
		return access, "", err
	}
	now := s.p.now()
	keepUntil := now.Add(s.p.ttl.access)
	if ar.replayed {
		return access, "", s.redeemCode(ctx, ar, grant, keepUntil, now)
	}
	x := store.CodeExchange{CodeHash: ar.codeHash, GrantID: grant}
	if withRefresh {
		t, value, err := s.refreshToken(ar, grant, now)
		if err != nil {
			return access, "", err
		}
		t.AMR, t.AuthTime = ar.r.AMR, ar.r.AuthTime
		x.Refresh, refresh = &t, value
		if r := now.Add(s.p.ttl.refresh); r.After(keepUntil) {
			keepUntil = r
		}
	}
	if access, err = s.accessToken(ar, grant, now); err != nil {
		return access, "", err
	}
	x.Access, x.KeepUntil = &access, keepUntil
	got, err := s.p.store.ExchangeAuthCode(ctx, x, now)
	if err != nil {
		return store.AccessToken{}, "", s.redeemError(ctx, ar, err)
	}
	if sc := scopeOf(ctx); sc != nil {
		sc.exchanged = ar.r.ID
		sc.mappingOf, sc.mapping = access.QortalAddress, got.Mapping
	}
	return access, refresh, nil
}

// redeemCode redeems the code under grant. The record of the redemption is
// kept until keepUntil, when every token issued now has expired.
func (s *storage) redeemCode(ctx context.Context, ar *authRequest, grant string, keepUntil, now time.Time) error {
	err := s.p.store.RedeemAuthCode(ctx, ar.codeHash, grant, keepUntil, now)
	if err == nil {
		return nil
	}
	return s.redeemError(ctx, ar, err)
}

// redeemError answers a code that could not be redeemed.
func (s *storage) redeemError(ctx context.Context, ar *authRequest, err error) error {
	switch {
	case errors.Is(err, store.ErrCodeUsed):
		// The store has revoked what the first redemption issued.
		s.p.logger.WarnContext(ctx, "authorization code reuse detected; tokens issued from it revoked", "client_id", ar.r.ClientID)
		return oidc.ErrInvalidGrant().WithDescription("code already used or expired")
	case errors.Is(err, store.ErrNotFound):
		return oidc.ErrInvalidGrant().WithDescription("code already used or expired")
	}
	return fmt.Errorf("redeem code: %w", err)
}
