package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/policy"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// PurposeOnboard marks challenges of the /onboard page.
const PurposeOnboard = "onboard"

// registerOnboard mounts /onboard/{token}: the page an invite link opens.
// The user signs a challenge like at login; the broker then links the
// address to the invite's account (or creates one, as the policy allows),
// consumes the invite and sends the user to Nextcloud to sign in.
func (h *Handler) registerOnboard(r *mux.Router) {
	b := h.basePath
	r.HandleFunc(b+"/onboard/challenge", h.onboardChallenge).Methods(http.MethodPost)
	r.HandleFunc(b+"/onboard/verify", h.onboardVerify).Methods(http.MethodPost)
	r.HandleFunc(b+"/onboard/{token}", h.onboardPage).Methods(http.MethodGet, http.MethodHead)
}

// OnboardMessage is the text signed on the /onboard page. It names the
// broker and what the signature authorizes, like the login message.
func OnboardMessage(issuer, address, nonce string, issued, expires time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s wants you to link your Qortal account to your account there:\n", issuerHost(issuer))
	fmt.Fprintf(&b, "%s\n\n", address)
	fmt.Fprintf(&b, "Signing accepts an invite: from now on this Qortal account signs you in via %s\n\n", issuer)
	fmt.Fprintf(&b, "URI: %s\n", issuer)
	b.WriteString("Purpose: onboard\n")
	fmt.Fprintf(&b, "Nonce: %s\n", nonce)
	fmt.Fprintf(&b, "Issued At: %s\n", issued.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "Expiration Time: %s", expires.UTC().Format(time.RFC3339))
	return b.String()
}

// onboardPage shows the sign page for a usable invite, or why it is not.
func (h *Handler) onboardPage(w http.ResponseWriter, r *http.Request) {
	token := mux.Vars(r)["token"]
	if err := h.admission.CheckInvite(r.Context(), token); err != nil {
		h.inviteProblemPage(r.Context(), w, err)
		return
	}
	d := h.basePage("Link your Qortal account")
	d.Mode, d.InviteToken = "onboard", token
	d.ClientName = "your account"
	h.render(r.Context(), w, http.StatusOK, "login.html", d, "")
}

func (h *Handler) inviteProblemPage(ctx context.Context, w http.ResponseWriter, err error) {
	var den *policy.Denial
	if !errors.As(err, &den) {
		h.errorPage(ctx, w, h.internal(ctx, "check invite", err))
		return
	}
	reason, ok := denyReasons[den.Code]
	d := h.basePage("Invite problem")
	d.Heading, d.Message, d.Hint = "This invite can't be used", sentence(den.Description),
		"Ask your administrator for a new invite."
	if ok {
		d.Heading, d.Message, d.Hint = reason.heading, reason.message, reason.hint
	}
	h.render(ctx, w, http.StatusForbidden, "error.html", d, "")
}

type onboardChallengeRequest struct {
	InviteToken   string `json:"inviteToken"`
	QortalAddress string `json:"qortalAddress"`
}

func (h *Handler) onboardChallenge(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if e := limit(r.Context(), h.ipLim, h.clientIP(r), "from your network"); e != nil {
		writeError(w, e)
		return
	}
	var req onboardChallengeRequest
	if e := decodeJSON(w, r, &req); e != nil {
		writeError(w, e)
		return
	}
	addr := strings.TrimSpace(req.QortalAddress)
	if err := qortal.ValidateAddress(addr); err != nil {
		writeError(w, newErr(http.StatusBadRequest, "invalid_address", "enter your Qortal address (it starts with Q)"))
		return
	}
	// Per IP only (see issueChallenge).
	if err := h.admission.CheckInvite(ctx, req.InviteToken); err != nil {
		writeError(w, h.admissionError(ctx, store.Challenge{QortalAddress: addr}, err))
		return
	}
	now := h.now().UTC().Truncate(time.Second)
	id, err := randomID()
	if err != nil {
		writeError(w, h.internal(ctx, "challenge id", err))
		return
	}
	nonce, err := randomNonce()
	if err != nil {
		writeError(w, h.internal(ctx, "challenge nonce", err))
		return
	}
	c := store.Challenge{ID: id, Purpose: PurposeOnboard, QortalAddress: addr, CreatedAt: now, ExpiresAt: now.Add(h.ttl)}
	c.Message = OnboardMessage(h.issuer, addr, nonce, c.CreatedAt, c.ExpiresAt)
	if err := h.store.CreateChallenge(ctx, c); err != nil {
		writeError(w, h.internal(ctx, "create challenge", err))
		return
	}
	writeJSON(w, http.StatusOK, challengeResponse{ChallengeID: id, Message: c.Message, ExpiresAt: c.ExpiresAt.Format(time.RFC3339)})
}

func (h *Handler) onboardVerify(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if e := limit(r.Context(), h.ipLim, h.clientIP(r), "from your network"); e != nil {
		writeError(w, e)
		return
	}
	var req verifyRequest
	if e := decodeJSON(w, r, &req); e != nil {
		writeError(w, e)
		return
	}
	if (req.PublicKey != "" || req.Signature != "") == (req.SignedTransaction != "") {
		writeError(w, errInvalid("send either publicKey and signature, or signedTransaction"))
		return
	}
	if req.InviteToken == "" {
		writeError(w, errInvalid("inviteToken is required"))
		return
	}
	c, e := h.loadChallengeFor(r, req.ChallengeID, "", PurposeOnboard)
	if e != nil {
		writeError(w, e)
		return
	}
	if e := h.proveAndConsume(ctx, c, req); e != nil {
		writeError(w, e)
		return
	}
	m, err := h.admission.Admit(ctx, c.QortalAddress, strings.TrimSpace(req.InviteToken))
	if err != nil {
		writeError(w, h.admissionError(ctx, c, err))
		return
	}
	h.audit(ctx, "onboard.linked", c.QortalAddress, detail("nextcloudUserId", m.NextcloudUserID))
	h.log.InfoContext(ctx, "onboarded", "address", c.QortalAddress, "nextcloudUserId", m.NextcloudUserID)
	// The signature just made is as good as a login's: remember it in this
	// browser, so the sign-in that follows (nextcloud.login_url) needs no
	// second one. The link already stands; without the session the user
	// simply signs in once more.
	if err := h.provider.OpenBrokerSession(w, r, c.QortalAddress, h.now()); err != nil {
		h.log.WarnContext(ctx, "onboarding: no broker session opened", "address", c.QortalAddress, "err", err)
	}
	to := h.nextcloudURL
	if to == "" {
		to = h.issuer
	}
	writeJSON(w, http.StatusOK, verifyResponse{RedirectTo: to})
}

// sentence capitalises s and ends it with a full stop, for text written
// lower-case to be embedded in other messages.
func sentence(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
