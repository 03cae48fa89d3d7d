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
// burn the code, but only one exchange can ever succeed. Every token carries a
// new grant id (its refresh family) and is stored before the code is
// redeemed: a concurrent redemption that loses revokes the winner's grant,
// and it must find every token of it. Tokens of an attempt that does not
// redeem the code are revoked here and never handed out.
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
	if !ar.replayed {
		if withRefresh {
			if refresh, err = s.newRefreshToken(ctx, ar, grant, now); err != nil {
				return access, "", err
			}
			if r := now.Add(s.p.ttl.refresh); r.After(keepUntil) {
				keepUntil = r
			}
		}
		if access, err = s.newAccessToken(ctx, ar, grant); err != nil {
			return access, "", err
		}
	}
	if err := s.redeemCode(ctx, ar, grant, keepUntil, now); err != nil {
		return store.AccessToken{}, "", err
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
	if !ar.replayed {
		if rerr := s.p.store.RevokeRefreshFamily(ctx, grant, now); rerr != nil {
			s.p.logger.ErrorContext(ctx, "revoke tokens of a failed code exchange", "client_id", ar.r.ClientID, "error", rerr)
		}
	}
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
