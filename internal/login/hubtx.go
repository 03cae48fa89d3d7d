package login

import (
	"errors"
	"net/http"
	"strings"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
)

type hubTxRequest struct {
	ChallengeID   string `json:"challengeId"`
	QortalAddress string `json:"qortalAddress,omitempty"` // as in verifyRequest
	PublicKey     string `json:"publicKey"`
}

type hubTxResponse struct {
	UnsignedBytes string `json:"unsignedBytes"`
}

// hubTransaction wraps a challenge in an unsigned MESSAGE transaction for
// Qortal Hub's SIGN_TRANSACTION, the only way Hub signs anything a page
// chooses. Built here so the page needs no transaction code. Experimental:
// whether Hub's node-side decode accepts it is unconfirmed, and it is never
// broadcast (zero fee, no recipient, no amount).
func (h *Handler) hubTransaction(w http.ResponseWriter, r *http.Request) {
	if e := limit(r.Context(), h.ipLim, h.clientIP(r), "from your network"); e != nil {
		writeError(w, e)
		return
	}
	var req hubTxRequest
	if e := decodeJSON(w, r, &req); e != nil {
		writeError(w, e)
		return
	}
	c, e := h.loadChallengeFor(r, req.ChallengeID, req.QortalAddress, PurposeLogin, PurposeOnboard)
	if e != nil {
		writeError(w, e)
		return
	}
	pub, err := qortal.ParsePublicKey(strings.TrimSpace(req.PublicKey))
	if errors.Is(err, qortal.ErrWeakPublicKey) {
		writeError(w, proofError(err))
		return
	}
	if err != nil {
		writeError(w, errInvalid(err.Error()))
		return
	}
	if got := qortal.AddressFromPublicKey(pub); got != c.QortalAddress {
		writeError(w, newErr(http.StatusBadRequest, "address_mismatch",
			"the wallet's account is "+got+", but the challenge is for "+c.QortalAddress))
		return
	}
	unsigned, err := qortal.BuildMessageTx(qortal.MessageTxParams{
		Timestamp:       h.now(),
		SenderPublicKey: pub,
		Data:            []byte(c.Message),
		IsText:          true,
	})
	if err != nil {
		writeError(w, h.internal(r.Context(), "build message tx", err))
		return
	}
	writeJSON(w, http.StatusOK, hubTxResponse{UnsignedBytes: qortal.Base58Encode(unsigned)})
}
