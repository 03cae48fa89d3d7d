package login

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/oidcprovider"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// PurposeLogin marks challenges issued by this package.
const PurposeLogin = "login"

type challengeRequest struct {
	AuthRequestID string `json:"authRequestId"`
	QortalAddress string `json:"qortalAddress"`
}

type challengeResponse struct {
	ChallengeID string `json:"challengeId"`
	Message     string `json:"message"`
	ExpiresAt   string `json:"expiresAt"`
}

// challenge issues a one-time message for an address and auth request.
func (h *Handler) challenge(w http.ResponseWriter, r *http.Request) {
	resp, e := h.issueChallenge(w, r)
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (h *Handler) issueChallenge(w http.ResponseWriter, r *http.Request) (challengeResponse, *apiError) {
	ctx := r.Context()
	if e := limit(r.Context(), h.ipLim, h.clientIP(r), "from your network"); e != nil {
		return challengeResponse{}, e
	}
	var req challengeRequest
	if e := decodeJSON(w, r, &req); e != nil {
		return challengeResponse{}, e
	}
	addr := strings.TrimSpace(req.QortalAddress)
	if addr == "" {
		return challengeResponse{}, newErr(http.StatusBadRequest, "invalid_address", "enter your Qortal address (it starts with Q)")
	}
	if err := qortal.ValidateAddress(addr); err != nil {
		return challengeResponse{}, newErr(http.StatusBadRequest, "invalid_address", "invalid Qortal address: "+err.Error())
	}
	// No per-address charge here: issuing proves nothing, and charging it
	// let anyone lock an address's owner out with anonymous requests. The
	// per-address budget is spent only by failed proofs (proveAndConsume).
	ar, e := h.authRequest(ctx, req.AuthRequestID)
	if e != nil {
		return challengeResponse{}, e
	}

	sc, e := h.newChallenge(ctx, ar, addr)
	if e != nil {
		return challengeResponse{}, e
	}
	// Sealed, not stored (see sealed.go): issuing a challenge writes nothing.
	return challengeResponse{ChallengeID: h.seal(sc), Message: sc.message(h.issuer), ExpiresAt: sc.expires().Format(time.RFC3339)}, nil
}

// newChallenge is a login challenge for ar and addr ("" for a page
// challenge), to seal: it expires with the challenge TTL or with ar,
// whichever comes first.
func (h *Handler) newChallenge(ctx context.Context, ar oidcprovider.AuthRequestInfo, addr string) (sealedChallenge, *apiError) {
	now := h.now().UTC().Truncate(time.Second) // the message shows whole seconds
	expires := now.Add(h.ttl)
	if !ar.ExpiresAt.IsZero() && ar.ExpiresAt.Before(expires) {
		// A signature past the auth request's life could not be used anyway.
		expires = ar.ExpiresAt.UTC().Truncate(time.Second)
	}
	if !expires.After(now) {
		return sealedChallenge{}, errAuthRequestGone("this login request has expired: go back to the app and sign in again")
	}
	nonce, err := randomNonce()
	if err != nil {
		return sealedChallenge{}, h.internal(ctx, "challenge nonce", err)
	}
	return sealedChallenge{
		AuthRequestID: ar.ID, ClientID: ar.ClientID, ClientName: ar.ClientName, Address: addr,
		Nonce: nonce, IssuedAt: now.Unix(), ExpiresAt: expires.Unix(),
	}, nil
}

// randomID is 144 random bits, URL-safe.
func randomID() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// randomNonce is 128 random bits in hex, easy to read aloud and compare.
func randomNonce() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// loadChallenge opens a login challenge and explains precisely why it
// cannot be used, before any signature work is done. Unlike
// loadChallengeFor it does not ask the store whether a sealed challenge was
// used: a sealed login challenge belongs to one auth request, and once used
// either that request is done (the usual login records both in one
// transaction) or the record refuses the challenge again (the consume of
// the careful path, or the completion's own insert). So the proof learns
// of a replay from its auth request, which it reads anyway (usually from
// the replica's copy), and only then reads the record to say why
// (usedChallenge): one store read less per login.
//
// addr is the address the proof is for: required with a page challenge
// (which is for any address until then), optional otherwise, and then it
// must be the challenge's.
func (h *Handler) loadChallenge(r *http.Request, id, addr string) (store.Challenge, *apiError) {
	if strings.HasPrefix(id, sealedPrefix) {
		return h.openSealed(id, addr, PurposeLogin)
	}
	return h.loadChallengeFor(r, id, addr, PurposeLogin)
}

func errChallengeNotFound() *apiError {
	return newErr(http.StatusNotFound, "challenge_not_found", "unknown challenge: request a new one")
}

// openSealed opens a sealed challenge of one of purposes for addr (see
// loadChallenge) and checks its time, without asking the store whether it
// was used.
func (h *Handler) openSealed(id, addr string, purposes ...string) (store.Challenge, *apiError) {
	addr = strings.TrimSpace(addr)
	if addr != "" {
		// Checked before it goes into the message: an address is Base58,
		// so it cannot add a line of its own.
		if err := qortal.ValidateAddress(addr); err != nil {
			return store.Challenge{}, newErr(http.StatusBadRequest, "invalid_address", "invalid Qortal address: "+err.Error())
		}
	}
	sc, ok := h.open(id)
	if !ok || !slices.Contains(purposes, PurposeLogin) {
		return store.Challenge{}, errChallengeNotFound()
	}
	switch {
	case sc.Address == "" && addr == "":
		return store.Challenge{}, newErr(http.StatusBadRequest, "invalid_address",
			"this challenge is for the address you sign with: send it as qortalAddress")
	case sc.Address == "":
		sc.Address = addr // a page challenge: for the address its proof names
	case addr != "" && addr != sc.Address:
		return store.Challenge{}, errChallengeAddress(sc.Address, addr)
	}
	c := sc.challenge(h.issuer)
	return c, checkUsable(c, h.now())
}

func errChallengeAddress(challenge, given string) *apiError {
	return newErr(http.StatusBadRequest, "address_mismatch", "this challenge is for "+challenge+", not for "+given+": request a new one")
}

// usedChallenge is e, the refusal of c's auth request, unless c itself was
// used: a replayed proof is "challenge_used", as it was before its request
// was read.
func (h *Handler) usedChallenge(ctx context.Context, c store.Challenge, e *apiError) *apiError {
	if !isSealed(c) || e.status >= 500 {
		return e
	}
	used, err := h.store.GetChallenge(ctx, c.ID)
	if err != nil || used.UsedAt == nil {
		return e
	}
	c.UsedAt = used.UsedAt
	return checkUsable(c, h.now())
}

// loadChallengeFor opens a challenge of one of purposes and, unlike
// loadChallenge, asks the store whether a sealed one was used.
func (h *Handler) loadChallengeFor(r *http.Request, id, addr string, purposes ...string) (store.Challenge, *apiError) {
	notFound := errChallengeNotFound()
	addr = strings.TrimSpace(addr)
	if strings.HasPrefix(id, sealedPrefix) {
		c, e := h.openSealed(id, addr, purposes...)
		if e != nil {
			return c, e
		}
		// Used already? The record says; recording it again would refuse
		// too, but only after the signature check and account lookup.
		switch used, err := h.store.GetChallenge(r.Context(), c.ID); {
		case err == nil:
			c.UsedAt = used.UsedAt
		case !errors.Is(err, store.ErrNotFound):
			return c, h.internal(r.Context(), "get challenge", err)
		}
		return c, checkUsable(c, h.now())
	}
	if id == "" || len(id) > maxIDLen {
		return store.Challenge{}, notFound
	}
	c, err := h.store.GetChallenge(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return c, notFound
	case err != nil:
		return c, h.internal(r.Context(), "get challenge", err)
	case !slices.Contains(purposes, c.Purpose):
		return c, notFound // another flow's challenge is not one of these
	case addr != "" && addr != c.QortalAddress:
		return c, errChallengeAddress(c.QortalAddress, addr)
	}
	return c, checkUsable(c, h.now())
}

func checkUsable(c store.Challenge, now time.Time) *apiError {
	if c.UsedAt != nil {
		return newErr(http.StatusConflict, "challenge_used", "this challenge was already used: request a new one")
	}
	if !now.Before(c.ExpiresAt) {
		return newErr(http.StatusGone, "challenge_expired", "this challenge expired at "+c.ExpiresAt.UTC().Format(time.RFC3339)+": request a new one")
	}
	return nil
}
