package provision

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

const purposeProvision = "provision"

// IssueChallenge creates a one-time message proving control of an address
// for provisioning. address may be empty: then the challenge binds to
// whichever address signs it.
func (s *Service) IssueChallenge(ctx context.Context, address string) (store.Challenge, error) {
	address = strings.TrimSpace(address)
	if address != "" {
		if err := validAddress(address); err != nil {
			return store.Challenge{}, err
		}
	}
	id, err := randomID()
	if err != nil {
		return store.Challenge{}, err
	}
	nonce, err := randomID()
	if err != nil {
		return store.Challenge{}, err
	}
	now := s.now().UTC().Truncate(time.Second)
	c := store.Challenge{
		ID: id, Purpose: purposeProvision, QortalAddress: address,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.ChallengeTTL),
	}
	c.Message = ProvisionMessage(s.issuer, address, nonce, c.CreatedAt, c.ExpiresAt)
	if err := s.store.CreateChallenge(ctx, c); err != nil {
		return store.Challenge{}, storeErr(err)
	}
	return c, nil
}

// ProvisionMessage is the text a user signs. It names the broker, what the
// signature authorizes and when, so it is useless to any other site or at
// any other time.
func ProvisionMessage(issuer, address, nonce string, issued, expires time.Time) string {
	if address == "" {
		address = "(the address of the signing key)"
	}
	return fmt.Sprintf("%s asks you to prove that you control a Qortal account.\n\n"+
		"Signing this message authorizes the broker to create or link a Nextcloud account for it. It does not move funds or sign a transaction.\n\n"+
		"URI: %s\nAddress: %s\nPurpose: provision\nNonce: %s\nIssued At: %s\nExpiration Time: %s",
		hostOf(issuer), issuer, address, nonce, issued.UTC().Format(time.RFC3339), expires.UTC().Format(time.RFC3339))
}

// WalletRequest is an upsert proven by a signature over an issued challenge.
type WalletRequest struct {
	ChallengeID     string
	PublicKey       string
	Signature       string
	NextcloudUserID string
	DisplayName     string
	Email           string
}

// UpsertFromWallet verifies the proof, consumes the challenge once and then
// upserts for the proven address.
func (s *Service) UpsertFromWallet(ctx context.Context, actor string, req WalletRequest) (res Result, err error) {
	defer func() { s.observe("upsert_from_wallet", res.Created, err) }()
	if req.ChallengeID == "" || req.PublicKey == "" || req.Signature == "" {
		return Result{}, badRequest("invalid_request", "challengeId, publicKey and signature are required")
	}
	c, err := s.store.GetChallenge(ctx, req.ChallengeID)
	if isNotFound(err) || (err == nil && c.Purpose != purposeProvision) {
		return Result{}, notFound("challenge_not_found", "no provisioning challenge with this id")
	} else if err != nil {
		return Result{}, storeErr(err)
	}
	if err := challengeState(c, s.now()); err != nil {
		return Result{}, err
	}
	pub, err := qortal.ParsePublicKey(req.PublicKey)
	if errors.Is(err, qortal.ErrWeakPublicKey) {
		return Result{}, apierror.Wrap(err, http.StatusBadRequest, "bad_public_key", "publicKey: %v (no real Qortal account has it)", err)
	}
	if err != nil {
		return Result{}, apierror.Wrap(err, http.StatusBadRequest, "invalid_public_key", "publicKey: %v", err)
	}
	address := qortal.AddressFromPublicKey(pub)
	if c.QortalAddress != "" && c.QortalAddress != address {
		return Result{}, badRequest("address_mismatch", "the challenge was issued for %s but the key belongs to %s", c.QortalAddress, address)
	}
	if _, err := qortal.VerifyProof(address, req.PublicKey, req.Signature, []byte(c.Message)); err != nil {
		if errors.Is(err, qortal.ErrBadSignature) {
			return Result{}, badRequest("bad_signature", "the signature does not verify for this challenge and public key")
		}
		return Result{}, apierror.Wrap(err, http.StatusBadRequest, "invalid_signature", "signature: %v", err)
	}
	if _, err := s.store.ConsumeChallenge(ctx, c.ID, s.now()); err != nil {
		if cerr := consumeErr(err); cerr != nil {
			return Result{}, cerr
		}
		return Result{}, storeErr(err)
	}
	return s.Upsert(ctx, actor+" wallet:"+address, Request{
		QortalAddress: address, NextcloudUserID: req.NextcloudUserID,
		DisplayName: req.DisplayName, Email: req.Email,
	})
}

func challengeState(c store.Challenge, now time.Time) error {
	if c.UsedAt != nil {
		return apierror.Conflict("challenge_used", "this challenge was already used; request a new one")
	}
	if !now.Before(c.ExpiresAt) {
		return apierror.New(http.StatusGone, "challenge_expired", "this challenge expired at %s; request a new one", c.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

func consumeErr(err error) error {
	switch {
	case errors.Is(err, store.ErrChallengeUsed):
		return apierror.Conflict("challenge_used", "this challenge was already used; request a new one")
	case errors.Is(err, store.ErrChallengeExpired):
		return apierror.New(http.StatusGone, "challenge_expired", "this challenge expired; request a new one")
	case errors.Is(err, store.ErrNotFound):
		return notFound("challenge_not_found", "no provisioning challenge with this id")
	}
	return nil
}

func randomID() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hostOf(issuer string) string {
	h := strings.TrimPrefix(strings.TrimPrefix(issuer, "https://"), "http://")
	if i := strings.IndexByte(h, '/'); i >= 0 {
		h = h[:i]
	}
	return h
}
