package oidcprovider

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// codeTTL bounds the code's life; user_oidc redeems it at once and must
// finish the whole round trip within 300 s anyway.
const codeTTL = 2 * time.Minute

// storage implements op.Storage on the project store. It holds no state of
// its own: every replica sharing the database sees the same flows.
type storage struct {
	p *Provider
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

func randomID(prefix string) (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

func hashToken(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

// temporarilyUnavailable is RFC 6749 4.1.2.1's answer for a transient fault,
// for the storage calls after which op redirects to the (already validated)
// redirect URI: the relying party learns to retry rather than that its
// request was wrong. Everywhere else the outage middleware (package outage)
// rewrites op's answer.
func temporarilyUnavailable(err error) *oidc.Error {
	return (&oidc.Error{ErrorType: "temporarily_unavailable",
		Description: "the authorization server's database is temporarily unavailable; retry shortly"}).WithParent(err)
}

// notFound marks storage errors op should treat as "no such thing".
type notFound struct{ error }

func (notFound) IsNotFound() {}

func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	c, err := s.p.client(ctx, req.ClientID)
	if errors.Is(err, store.ErrUnavailable) {
		return nil, temporarilyUnavailable(err)
	}
	if err != nil {
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown client")
	}
	if slices.Contains(req.Prompt, oidc.PromptNone) && !s.p.SSOEnabled() {
		// Without broker sessions every login needs a fresh signature, so
		// a silent login can never succeed. With them the login page
		// decides (a live session completes it, else login_required).
		return nil, oidc.ErrLoginRequired().WithDescription("a Qortal signature is required for every login")
	}
	switch {
	case req.CodeChallenge == "" && c.c.Public:
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE (code_challenge with S256) is required for public clients")
	case req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	case req.CodeChallenge == "" && req.CodeChallengeMethod != "":
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method without code_challenge")
	}
	if req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery && req.ResponseMode != oidc.ResponseModeFormPost {
		return nil, oidc.ErrInvalidRequest().WithDescription("response_mode must be query or form_post")
	}
	id, err := randomID("ar_")
	if err != nil {
		return nil, err
	}
	now := s.p.now()
	ar := store.AuthRequest{
		ID: id, ClientID: req.ClientID, RedirectURI: req.RedirectURI, Scopes: req.Scopes,
		State: req.State, Nonce: req.Nonce, ResponseType: string(req.ResponseType),
		ResponseMode: string(req.ResponseMode), CodeChallenge: req.CodeChallenge,
		CodeChallengeMethod: string(req.CodeChallengeMethod), Prompt: req.Prompt,
		LoginHint: req.LoginHint, CreatedAt: now, ExpiresAt: now.Add(s.p.ttl.authRequest),
	}
	if req.MaxAge != nil {
		v := int64(*req.MaxAge)
		ar.MaxAge = &v
	}
	if err := ar.Validate(); err != nil {
		return nil, oidc.ErrInvalidRequest().WithDescription("%s", err.Error())
	}
	// Sealed into its id: nothing to write (sealedrequest.go).
	if public, ok := s.p.sealRequest(ar); ok {
		ar.ID = requestKey(public)
		s.p.pending.put(public, ar, now)
		return &authRequest{r: ar, public: public}, nil
	}
	if err := s.p.store.CreateAuthRequest(ctx, ar); errors.Is(err, store.ErrUnavailable) {
		return nil, temporarilyUnavailable(err)
	} else if err != nil {
		return nil, fmt.Errorf("create auth request: %w", err)
	}
	s.p.pending.put(ar.ID, ar, now)
	return &authRequest{r: ar}, nil
}

// loadAuthRequest returns the request unless unknown, expired or ended.
// A sealed id's request is the store's row when it has one (completed or
// ended), else the pending request the id carries.
func (p *Provider) loadAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	if isSealedRequest(id) {
		sealed, ok := p.openRequest(id)
		if !ok {
			return store.AuthRequest{}, fmt.Errorf("auth request: not one of ours: %w", store.ErrNotFound)
		}
		if !p.now().Before(sealed.ExpiresAt) {
			return sealed, fmt.Errorf("auth request expired: %w", store.ErrNotFound)
		}
		ar, err := p.store.GetAuthRequest(ctx, sealed.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return sealed, nil
		case err != nil:
			return ar, err
		case ar.Done && ar.Subject == "":
			return ar, fmt.Errorf("auth request ended: %w", store.ErrNotFound)
		}
		return ar, nil
	}
	ar, err := p.store.GetAuthRequest(ctx, id)
	if err != nil {
		return ar, err
	}
	if !p.now().Before(ar.ExpiresAt) {
		return ar, fmt.Errorf("auth request expired: %w", store.ErrNotFound)
	}
	return ar, nil
}

// pendingAuthRequest is loadAuthRequest for the login page, the challenge
// and the proof: a pending request this replica knows comes from memory
// (see pending.go), anything else from the store.
func (p *Provider) pendingAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	now := p.now()
	if ar, ok := p.pending.get(id, now); ok {
		return ar, nil
	}
	ar, err := p.loadAuthRequest(ctx, id)
	if err == nil {
		p.pending.put(id, ar, now)
	}
	return ar, err
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	ar, err := s.p.loadAuthRequest(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound{oidc.ErrInvalidRequest().WithDescription("unknown or expired auth request")}
		}
		return nil, fmt.Errorf("auth request: %w", err)
	}
	if isSealedRequest(id) && !ar.Done {
		return &authRequest{r: ar, public: id}, nil
	}
	return &authRequest{r: ar}, nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	h := hashToken(code)
	now := s.p.now()
	if ar, ok := s.p.completedCodes.take(h, now); ok && ar.Done {
		return &authRequest{r: ar, codeHash: h}, nil // see "completedCodes" in pending.go
	}
	ar, err := s.p.store.AuthRequestByCode(ctx, h, now)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrCodeUsed) {
		// The code row goes at issuance; the redemption record says
		// whether this is a replay, to be refused once op has checked it.
		rc, rerr := s.p.store.GetRedeemedCode(ctx, h, now)
		if rerr == nil {
			return replayedRequest(rc), nil
		}
		if !errors.Is(rerr, store.ErrNotFound) {
			return nil, fmt.Errorf("redeemed code: %w", rerr)
		}
		return nil, notFound{err}
	}
	if err != nil {
		return nil, fmt.Errorf("auth request by code: %w", err)
	}
	if !ar.Done {
		return nil, notFound{errors.New("auth request not completed")}
	}
	return &authRequest{r: ar, codeHash: h}, nil
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	if checked, _ := ctx.Value(codeCheckedKey{}).(string); checked == id && code == s.p.crypto.codeFor(id) {
		return nil // the callback read the request through this very code, unused
	}
	now := s.p.now()
	// Logins store their code when they complete (CompleteLogin): then this
	// only checks it is that one and still unused.
	switch ar, err := s.p.store.AuthRequestByCode(ctx, hashToken(code), now); {
	case err == nil && ar.ID == id:
		return nil
	case errors.Is(err, store.ErrCodeUsed):
		return oidc.ErrInvalidRequest().WithDescription("this login was already completed")
	}
	err := s.p.store.SaveAuthCode(ctx, store.AuthCode{Hash: hashToken(code), AuthRequestID: id, CreatedAt: now, ExpiresAt: now.Add(codeTTL)})
	if errors.Is(err, store.ErrCodeUsed) {
		// The callback was replayed: one login yields one code.
		return oidc.ErrInvalidRequest().WithDescription("this login was already completed")
	}
	if errors.Is(err, store.ErrUnavailable) {
		return temporarilyUnavailable(err)
	}
	if err != nil {
		return fmt.Errorf("save auth code: %w", err)
	}
	return nil
}

func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	if sc := scopeOf(ctx); sc != nil && sc.exchanged == id {
		return nil // the exchange keeps it, done with its code used, until it expires
	}
	s.p.pending.forget(id)
	if err := s.p.store.DeleteAuthRequest(ctx, requestKey(id)); err != nil {
		return fmt.Errorf("delete auth request: %w", err)
	}
	return nil
}

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	return s.p.keys.signingKey(ctx)
}

func (s *storage) SignatureAlgorithms(ctx context.Context) ([]jose.SignatureAlgorithm, error) {
	return s.p.keys.algorithms(ctx)
}

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	return s.p.keys.publicKeys(ctx)
}

func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	return s.p.client(ctx, id)
}

// AuthorizeClientIDSecret compares hashes in constant time.
func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.p.client(ctx, id)
	if err != nil {
		return err
	}
	if c.c.Public || !secretMatches(c.c.SecretHash, secret) {
		return errors.New("invalid client secret")
	}
	return nil
}

// client loads a client by id.
func (p *Provider) client(ctx context.Context, id string) (*client, error) {
	if store.ValidateClientID(id) != nil {
		return nil, notFound{errors.New("unknown client")}
	}
	c, err := p.clients.get(ctx, p.store, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound{errors.New("unknown client")}
		}
		return nil, fmt.Errorf("load client: %w", err)
	}
	return &client{c: c, loginURL: p.issuer + loginPath, idTTL: p.ttl.id}, nil
}

// GetKeyByIDAndClientID: JWT client authentication is not offered.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("private_key_jwt is not supported")
}

// ValidateJWTProfileScopes: the JWT profile grant is not offered.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("jwt profile grant is not supported")
}

func (s *storage) Health(ctx context.Context) error {
	return s.p.store.Ping(ctx)
}
