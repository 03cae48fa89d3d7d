package login

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/qortal-oidc/qortal-oidc/internal/oidcprovider"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

type verifyRequest struct {
	ChallengeID string `json:"challengeId"`
	// AuthRequestID, when given, must be the one the challenge was issued
	// for: it stops a page for one login from finishing another.
	AuthRequestID string `json:"authRequestId,omitempty"`
	// QortalAddress is the address signed for: required with the login
	// page's own challenge (the page built the message around it), and if
	// given with another, it must be that challenge's.
	QortalAddress     string `json:"qortalAddress,omitempty"`
	PublicKey         string `json:"publicKey,omitempty"`
	Signature         string `json:"signature,omitempty"`
	SignedTransaction string `json:"signedTransaction,omitempty"`
	// InviteToken, optional, is an invite that admits this address under
	// the login policy (see policy.Service.Admit). It is a bearer secret, so
	// it travels once, with the proof, rather than in the challenge.
	InviteToken string `json:"inviteToken,omitempty"`
}

type verifyResponse struct {
	RedirectTo string `json:"redirectTo"`
}

// verify checks a signed challenge and completes the auth request.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request) {
	to, e := h.doVerify(w, r)
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, verifyResponse{RedirectTo: to})
}

func (h *Handler) doVerify(w http.ResponseWriter, r *http.Request) (string, *apiError) {
	ctx := r.Context()
	if e := limit(r.Context(), h.ipLim, h.clientIP(r), "from your network"); e != nil {
		return "", e
	}
	var req verifyRequest
	if e := decodeJSON(w, r, &req); e != nil {
		return "", e
	}
	hasKeySig := req.PublicKey != "" || req.Signature != ""
	if hasKeySig == (req.SignedTransaction != "") {
		return "", errInvalid("send either publicKey and signature, or signedTransaction")
	}

	c, e := h.loadChallenge(r, req.ChallengeID, req.QortalAddress)
	if e != nil {
		if e.status < 500 {
			h.metrics.ProofRefused(e.Code) // challenge_not_found, challenge_expired, challenge_used
		}
		return "", e
	}
	if req.AuthRequestID != "" && subtle.ConstantTimeCompare([]byte(req.AuthRequestID), []byte(c.AuthRequestID)) != 1 {
		h.metrics.ProofRefused("auth_request_mismatch")
		return "", newErr(http.StatusBadRequest, "auth_request_mismatch", "this challenge belongs to another login request: request a new one")
	}
	ar, e := h.authRequest(ctx, c.AuthRequestID)
	if e != nil {
		if e = h.usedChallenge(ctx, c, e); e.Code == "challenge_used" {
			h.metrics.ProofRefused(e.Code)
		}
		return "", e
	}
	if ar.ClientID != c.ClientID {
		return "", newErr(http.StatusBadRequest, "auth_request_mismatch", "this challenge was issued for another application: request a new one")
	}

	invite := strings.TrimSpace(req.InviteToken)
	if e := h.prove(ctx, c, req); e != nil {
		return "", e
	}
	if m, ok := h.fastPathAccount(ctx, c, invite); ok {
		// The usual login: a linked account, nothing to create. Resolving
		// it only reads, so the challenge can be recorded used in the
		// transaction that completes the login (one write for the proof,
		// the session, the code and the audit row). Concurrent verifies of
		// one proof still pass only once: the second completion fails.
		// The policy admits a linked mapping as it is (policy.Admit), so
		// the one just read is the account.
		return h.finish(w, r, c, invite, &c, &m)
	}
	// Admission may create or link an account: consume first, so only one
	// of concurrent verifies of the same proof gets that far.
	if e := h.consume(ctx, c); e != nil {
		if e.status < 500 {
			h.metrics.ProofRefused(e.Code) // challenge_used: a replay
		}
		return "", e
	}
	return h.finish(w, r, c, invite, nil, nil)
}

// fastPathAccount is the linked mapping of a sealed challenge's address
// when the proof carries no invite (a read; errors just mean "take the
// careful path").
func (h *Handler) fastPathAccount(ctx context.Context, c store.Challenge, invite string) (store.Mapping, bool) {
	if !isSealed(c) || invite != "" {
		return store.Mapping{}, false
	}
	m, err := h.store.GetMappingByAddress(ctx, c.QortalAddress)
	return m, err == nil && m.Status == store.StatusLinked
}

// finish resolves the proven address to its account (see resolve) and
// completes (or refuses) the auth request. unconsumed, when set, is the
// challenge to record used with the completion; linked, when set, is the
// linked mapping of the address just read (no invite to apply).
func (h *Handler) finish(w http.ResponseWriter, r *http.Request, c store.Challenge, inviteToken string, unconsumed *store.Challenge, linked *store.Mapping) (string, *apiError) {
	ctx := r.Context()
	var (
		m store.Mapping
		e *apiError
	)
	if linked != nil && inviteToken == "" {
		m = *linked
	} else {
		m, e = h.resolve(ctx, c, inviteToken)
	}
	if e != nil {
		if e.status < 500 {
			h.metrics.Login(e.Code, c.ClientID) // a refusal: not_linked, blocked, invite_required, ...
		}
		return "", e
	}
	rec := oidcprovider.LoginRecord{Challenge: unconsumed, Audit: []store.AuditEntry{{
		At: h.now(), Actor: "wallet:" + c.QortalAddress, Action: "login.success", Subject: c.QortalAddress,
		Detail: detail("clientId", c.ClientID, "nextcloudUserId", m.NextcloudUserID),
	}}}
	to, err := h.provider.CompleteBrowserLogin(w, r, c.AuthRequestID, m, h.now(), rec)
	if e := consumeError(err); e != nil {
		return "", e
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrAuthRequestDone) {
		return "", errAuthRequestGone("this login request expired or was completed while signing: go back to the app and sign in again")
	}
	if err != nil {
		return "", h.internal(ctx, "complete login", err)
	}
	h.metrics.Login("success", c.ClientID)
	h.log.InfoContext(ctx, "login", "address", c.QortalAddress, "client_id", c.ClientID, "user_id", m.NextcloudUserID)
	return to, nil
}

// proveAndConsume checks the proof and then consumes the challenge exactly
// once across replicas: two concurrent verifies of the same valid proof
// cannot both pass. A bad proof leaves the challenge usable, so a mistyped
// paste can be retried.
//
// Only a failed proof spends the address's budget, so guessing for one
// address stays slow however many IPs it comes from, while the owner's valid
// signature always gets through: nobody can lock an owner out by flooding
// their address with challenges or wrong signatures.
func (h *Handler) proveAndConsume(ctx context.Context, c store.Challenge, req verifyRequest) *apiError {
	if e := h.prove(ctx, c, req); e != nil {
		return e
	}
	return h.consume(ctx, c)
}

// prove checks the signature (or signed transaction) over c's message. A
// failed proof spends the address's budget (see proveAndConsume).
func (h *Handler) prove(ctx context.Context, c store.Challenge, req verifyRequest) *apiError {
	var e *apiError
	if req.SignedTransaction != "" {
		e = verifyTransaction(c, strings.TrimSpace(req.SignedTransaction))
	} else {
		e = verifySignature(c, strings.TrimSpace(req.PublicKey), strings.TrimSpace(req.Signature))
	}
	if e != nil {
		h.metrics.ProofRefused(e.Code)
		if le := limit(ctx, h.addrLim, c.QortalAddress, "for this address"); le != nil {
			return le
		}
	}
	return e
}

// consume marks c used, exactly once across replicas: a sealed challenge is
// recorded, a stored one updated.
func (h *Handler) consume(ctx context.Context, c store.Challenge) *apiError {
	var err error
	if isSealed(c) {
		c.AuthRequestID = oidcprovider.RequestKey(c.AuthRequestID) // the record names the request as the store does
		err = h.store.UseChallenge(ctx, c, h.now())
	} else {
		_, err = h.store.ConsumeChallenge(ctx, c.ID, h.now())
	}
	if e := consumeError(err); e != nil {
		return e
	}
	if err != nil {
		switch {
		case errors.Is(err, store.ErrNotFound):
			return newErr(http.StatusNotFound, "challenge_not_found", "unknown challenge: request a new one")
		default:
			return h.internal(ctx, "consume challenge", err)
		}
	}
	return nil
}

// consumeError explains a challenge that could not be consumed (nil for
// other errors).
func consumeError(err error) *apiError {
	if err != nil {
		switch {
		case errors.Is(err, store.ErrChallengeUsed):
			return newErr(http.StatusConflict, "challenge_used", "this challenge was already used: request a new one")
		case errors.Is(err, store.ErrChallengeExpired):
			return newErr(http.StatusGone, "challenge_expired", "this challenge expired: request a new one")
		}
	}
	return nil
}

func verifySignature(c store.Challenge, publicKey, signature string) *apiError {
	if publicKey == "" || signature == "" {
		return errInvalid("both publicKey and signature are required")
	}
	_, err := qortal.VerifyProof(c.QortalAddress, publicKey, signature, []byte(c.Message))
	if errors.Is(err, qortal.ErrAddressMismatch) {
		// VerifyProof parsed the key before comparing, so this cannot fail.
		if pub, perr := qortal.ParsePublicKey(publicKey); perr == nil {
			return newErr(http.StatusBadRequest, "address_mismatch", "this key belongs to "+
				qortal.AddressFromPublicKey(pub)+", not to "+c.QortalAddress+", the address this challenge is for")
		}
	}
	return proofError(err)
}

// verifyTransaction accepts Qortal Hub's SIGN_TRANSACTION output: a signed
// MESSAGE transaction whose text data must be the challenge, byte for byte.
func verifyTransaction(c store.Challenge, signed string) *apiError {
	tx, err := qortal.DecodeSignedMessageTx(signed)
	if errors.Is(err, qortal.ErrWeakPublicKey) {
		return proofError(err)
	}
	if err != nil {
		return errInvalid("signedTransaction: " + err.Error())
	}
	if tx.SenderAddress() != c.QortalAddress {
		return newErr(http.StatusBadRequest, "address_mismatch",
			"the transaction was signed by "+tx.SenderAddress()+", not by "+c.QortalAddress)
	}
	if !tx.IsText || tx.IsEncrypted || tx.Amount != 0 || !bytes.Equal(tx.Data, []byte(c.Message)) {
		return newErr(http.StatusBadRequest, "bad_signature",
			"the signed transaction does not carry this challenge's message as plain text")
	}
	return proofError(tx.Verify())
}

func proofError(err error) *apiError {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, qortal.ErrWeakPublicKey):
		return newErr(http.StatusBadRequest, "bad_public_key", "this public key cannot prove anything ("+err.Error()+"): no real Qortal account has it")
	case errors.Is(err, qortal.ErrAddressMismatch):
		return newErr(http.StatusBadRequest, "address_mismatch", "this public key does not belong to the address the challenge was issued for")
	case errors.Is(err, qortal.ErrBadSignature):
		return newErr(http.StatusBadRequest, "bad_signature", "the signature does not match this challenge and public key")
	default:
		return errInvalid(err.Error())
	}
}

// detail renders audit detail as a JSON object from key/value pairs.
func detail(kv ...string) string {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}
