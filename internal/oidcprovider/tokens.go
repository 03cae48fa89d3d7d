package oidcprovider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Token ids carry a prefix so RevokeToken can tell what it was handed.
const (
	accessPrefix  = "at_"
	familyPrefix  = "rf_"
	refreshPrefix = "rt_"
)

func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	var t store.AccessToken
	var err error
	if ar, ok := req.(*authRequest); ok {
		t, _, err = s.codeTokens(ctx, ar, false)
	} else {
		t, err = s.newAccessToken(ctx, req, "")
	}
	if err != nil {
		return "", time.Time{}, err
	}
	value, err := s.accessTokenValue(ctx, t)
	return value, t.ExpiresAt, err
}

func (s *storage) newAccessToken(ctx context.Context, req op.TokenRequest, family string) (store.AccessToken, error) {
	t, err := s.accessToken(req, family, s.p.now())
	if err != nil {
		return t, err
	}
	if err := s.p.store.CreateAccessToken(ctx, t); err != nil {
		return t, fmt.Errorf("store access token: %w", err)
	}
	return t, nil
}

// accessToken builds (but does not store) an access token of family.
func (s *storage) accessToken(req op.TokenRequest, family string, now time.Time) (store.AccessToken, error) {
	id, err := randomID(accessPrefix)
	if err != nil {
		return store.AccessToken{}, err
	}
	sid, address := sessionOf(req)
	return store.AccessToken{
		ID: id, ClientID: clientOf(req), Subject: req.GetSubject(), QortalAddress: address,
		Scopes: req.GetScopes(), Audience: req.GetAudience(), SessionID: sid,
		RefreshFamilyID: family, CreatedAt: now, ExpiresAt: now.Add(s.p.ttl.access),
	}, nil
}

func clientOf(req op.TokenRequest) string {
	if c, ok := req.(interface{ GetClientID() string }); ok {
		return c.GetClientID()
	}
	return ""
}

// refreshToken builds (but does not store) a refresh token of family.
func (s *storage) refreshToken(req op.TokenRequest, family string, now time.Time) (store.RefreshToken, string, error) {
	value, err := randomID(refreshPrefix)
	if err != nil {
		return store.RefreshToken{}, "", err
	}
	id, err := randomID("")
	if err != nil {
		return store.RefreshToken{}, "", err
	}
	t := store.RefreshToken{
		ID: id, Hash: hashToken(value), FamilyID: family, Subject: req.GetSubject(), ClientID: clientOf(req),
		Scopes: req.GetScopes(), Audience: req.GetAudience(), CreatedAt: now,
		ExpiresAt: now.Add(s.p.ttl.refresh),
	}
	t.SessionID, t.QortalAddress = sessionOf(req)
	return t, value, nil
}

// CreateAccessAndRefreshTokens issues a refresh token for a code (new
// family) or rotates the presented one (same family). Rotation is atomic in
// the store; presenting a rotated token again revokes the family.
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	switch r := req.(type) {
	case *authRequest:
		if current != "" {
			return "", "", time.Time{}, errors.New("unexpected refresh token with a code")
		}
		at, value, err := s.codeTokens(ctx, r, true)
		if err != nil {
			return "", "", time.Time{}, err
		}
		access, err := s.accessTokenValue(ctx, at)
		return access, value, at.ExpiresAt, err
	case *refreshRequest:
		if current == "" || current != r.token {
			return "", "", time.Time{}, oidc.ErrInvalidGrant()
		}
		now := s.p.now()
		next, value, err := s.refreshToken(req, r.t.FamilyID, now)
		if err != nil {
			return "", "", time.Time{}, err
		}
		next.AMR, next.AuthTime = r.t.AMR, r.t.AuthTime
		// The original grant's scopes stay on the family even when this
		// request narrowed them for its access token.
		next.Scopes = r.t.Scopes
		// The access token is stored before the rotation: when a second
		// presentation of the same refresh token races this one, the loser
		// revokes the family after the winner rotated, and the revocation
		// must catch the winner's access token too. Stored after, it would
		// outlive the revoked family for its whole lifetime.
		at, err := s.newAccessToken(ctx, req, next.FamilyID)
		if err != nil {
			return "", "", time.Time{}, err
		}
		if err := s.rotate(ctx, r, current, next, at.ID, now); err != nil {
			return "", "", time.Time{}, err
		}
		access, err := s.accessTokenValue(ctx, at)
		return access, value, at.ExpiresAt, err
	default:
		return "", "", time.Time{}, fmt.Errorf("unsupported token request %T", req)
	}
}

// rotate replaces the presented refresh token by next; on failure the
// access token minted for this exchange (accessID) is revoked, unused.
func (s *storage) rotate(ctx context.Context, r *refreshRequest, current string, next store.RefreshToken, accessID string, now time.Time) error {
	err := s.p.store.RotateRefreshToken(ctx, hashToken(current), next, now)
	if err == nil {
		return nil
	}
	if rerr := s.p.store.RevokeAccessToken(ctx, accessID, now); rerr != nil && !errors.Is(rerr, store.ErrNotFound) {
		s.p.logger.ErrorContext(ctx, "revoke access token of a failed refresh", "client_id", r.t.ClientID, "error", rerr)
	}
	switch {
	case errors.Is(err, store.ErrRefreshTokenReused):
		s.p.logger.WarnContext(ctx, "refresh token reuse detected; family revoked", "client_id", r.t.ClientID, "subject", r.t.Subject)
		return oidc.ErrInvalidGrant().WithDescription("refresh token already used")
	case errors.Is(err, store.ErrNotFound):
		return oidc.ErrInvalidGrant().WithDescription("refresh token invalid or expired")
	}
	return fmt.Errorf("rotate refresh token: %w", err)
}

// TokenRequestByRefreshToken checks the presented refresh token. A token
// that was already rotated means it leaked (or the client lost a race with
// itself): the family is revoked so neither copy keeps working.
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	now := s.p.now()
	t, err := s.p.store.GetRefreshToken(ctx, hashToken(token))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound{errors.New("unknown refresh token")}
		}
		return nil, fmt.Errorf("load refresh token: %w", err)
	}
	if t.RotatedAt != nil {
		if err := s.p.store.RevokeRefreshFamily(ctx, t.FamilyID, now); err != nil {
			return nil, fmt.Errorf("revoke reused refresh token family: %w", err)
		}
		s.p.logger.WarnContext(ctx, "refresh token reuse detected; family revoked", "client_id", t.ClientID, "subject", t.Subject)
		return nil, errors.New("refresh token already used")
	}
	if t.RevokedAt != nil || t.RotatedAt != nil || !now.Before(t.ExpiresAt) {
		return nil, errors.New("refresh token revoked or expired")
	}
	if _, err := s.p.linkedMapping(ctx, t.Subject, t.QortalAddress); err != nil {
		return nil, err
	}
	return &refreshRequest{t: t, scopes: t.Scopes, token: token}, nil
}

// GetRefreshTokenInfo resolves a refresh token for revocation. The id it
// returns names the token's family: revoking a refresh token ends the grant.
func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	if !strings.HasPrefix(token, refreshPrefix) {
		return "", "", op.ErrInvalidRefreshToken
	}
	t, err := s.p.store.GetRefreshToken(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) || (err == nil && t.ClientID != clientID) {
		return "", "", op.ErrInvalidRefreshToken
	}
	if err != nil {
		return "", "", fmt.Errorf("load refresh token: %w", err)
	}
	return t.Subject, t.FamilyID, nil
}

// RevokeToken revokes an access token (by id) or a refresh token family. A
// token that is unknown or belongs to another client is ignored, as RFC 7009
// asks: the caller cannot learn anything from the answer.
func (s *storage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	now := s.p.now()
	switch {
	case userID != "" && strings.HasPrefix(tokenOrID, familyPrefix):
		if err := s.p.store.RevokeRefreshFamily(ctx, tokenOrID, now); err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
	case userID != "" && strings.HasPrefix(tokenOrID, accessPrefix):
		t, err := s.p.store.GetAccessToken(ctx, tokenOrID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && t.ClientID != clientID) {
			return nil
		}
		if err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		if err := s.p.store.RevokeAccessToken(ctx, t.ID, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return oidc.ErrServerError().WithParent(err)
		}
	}
	return nil
}

// activeAccessToken loads an access token that is usable now.
func (p *Provider) activeAccessToken(ctx context.Context, id, subject string) (store.AccessToken, error) {
	t, err := p.store.GetAccessToken(ctx, id)
	if err != nil {
		return t, fmt.Errorf("access token: %w", err)
	}
	if t.RevokedAt != nil || !p.now().Before(t.ExpiresAt) || t.Subject != subject {
		return t, errors.New("access token revoked or expired")
	}
	return t, nil
}

func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.p.activeAccessToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	return s.p.setUserinfo(ctx, info, t.Subject, t.QortalAddress, t.Scopes)
}

func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := s.p.activeAccessToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	if t.ClientID != clientID && !slices.Contains(t.Audience, clientID) {
		return errors.New("token was not issued to this client")
	}
	info := new(oidc.UserInfo)
	if err := s.p.setUserinfo(ctx, info, t.Subject, t.QortalAddress, t.Scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope = t.Scopes
	resp.ClientID = t.ClientID
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(t.ExpiresAt)
	resp.IssuedAt = oidc.FromTime(t.CreatedAt)
	resp.Audience = t.Audience
	resp.Issuer = s.p.issuer
	resp.JWTID = t.ID
	return nil
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest does it.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token: user_oidc reads uid, name and
// email from the ID token only, so every claim must be here, plus sid.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	sid, address := sessionOf(req)
	if err := s.p.setUserinfo(ctx, info, req.GetSubject(), address, scopes); err != nil {
		if errors.Is(err, errNotLinked) {
			// Blocked or unlinked since the login: the grant behind the
			// code (or refresh token) is no longer valid (RFC 6749
			// section 5.2), not a server error.
			return oidc.ErrInvalidGrant().WithDescription("%s", errNotLinked).WithParent(err)
		}
		return err
	}
	if sid != "" {
		info.AppendClaims("sid", sid)
	}
	return nil
}

// GetPrivateClaimsFromScopes only matters for JWT access tokens op signs
// itself; the broker signs its own (see accesstoken.go).
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}
