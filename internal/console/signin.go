package console

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/ratelimit"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// signinView is what the two sign-in pages show.
type signinView struct {
	Address     string
	ChallengeID string
	Message     string
	ExpiresAt   time.Time
	Command     string
	Notice      string
	PublicKey   string
	Signature   string
}

// Reasons a session ended, shown on the sign-in page.
var endedNotices = map[string]string{
	"ended":       "Your session has ended. Sign in again.",
	"expired":     "Your session expired. Sign in again.",
	"idle":        "You were signed out after a period of inactivity. Sign in again.",
	"revoked":     "This address is no longer an administrator of this broker.",
	"signedout":   "You have signed out.",
	"unavailable": "The broker's database is unavailable; try again shortly.",
}

// signinPage asks for the admin's address.
func (h *Handler) signinPage(w http.ResponseWriter, r *http.Request) {
	if s, _ := h.loadSession(r); s != nil {
		setHeaders(w.Header())
		http.Redirect(w, r, h.path("/"), http.StatusSeeOther)
		return
	}
	pre, ok := h.preToken(w, r)
	if !ok {
		return
	}
	v := h.view("Sign in", "")
	v.CSRF = derive(pre, "signin")
	v.D = signinView{Notice: endedNotices[r.URL.Query().Get("why")]}
	h.render(w, r, http.StatusOK, "signin.html", v)
}

// preToken returns the browser's sign-in cookie, setting a new one when
// absent. It binds the sign-in forms to this browser (login CSRF).
func (h *Handler) preToken(w http.ResponseWriter, r *http.Request) (string, bool) {
	if c, err := r.Cookie(preCookie); err == nil && len(c.Value) == 43 {
		return c.Value, true
	}
	t, err := randomToken()
	if err != nil {
		h.fail(w, r, err)
		return "", false
	}
	h.setCookie(w, preCookie, t, int((time.Hour).Seconds()))
	return t, true
}

// signinForm checks a sign-in POST: same origin, this browser's token,
// and the per-IP rate limit. It renders the refusal itself.
func (h *Handler) signinForm(w http.ResponseWriter, r *http.Request) (csrf string, ok bool) {
	if reason := h.crossOrigin(r); reason != "" {
		h.forbidden(w, r, reason)
		return "", false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.forbidden(w, r, "the form could not be read")
		return "", false
	}
	c, err := r.Cookie(preCookie)
	if err != nil || !validToken(r.PostForm.Get("csrf"), derive(c.Value, "signin")) {
		h.forbidden(w, r, "the sign-in form's security token is missing or wrong (are cookies enabled?): reload the page and try again")
		return "", false
	}
	if allowed, retry := h.d.IPLimiter.Allow(r.Context(), ratelimit.ClientKey(r, h.trustProxy)); !allowed {
		h.tooMany(w, r, retry, "from your network")
		return "", false
	}
	return r.PostForm.Get("csrf"), true
}

// signinStart issues a challenge for the address and shows it to sign.
func (h *Handler) signinStart(w http.ResponseWriter, r *http.Request) {
	csrf, ok := h.signinForm(w, r)
	if !ok {
		return
	}
	addr := strings.TrimSpace(r.PostForm.Get("address"))
	v := h.view("Sign in", "")
	v.CSRF = csrf
	if err := qortal.ValidateAddress(addr); err != nil {
		v.Error = "That is not a Qortal address: " + err.Error() + "."
		if addr == "" {
			v.Error = "Enter your Qortal address (it starts with Q)."
		}
		v.D = signinView{Address: addr}
		h.render(w, r, http.StatusBadRequest, "signin.html", v)
		return
	}
	now := h.now().UTC().Truncate(time.Second)
	nonce := make([]byte, 16)
	id := make([]byte, 18)
	if _, err := rand.Read(nonce); err != nil {
		h.fail(w, r, err)
		return
	}
	if _, err := rand.Read(id); err != nil {
		h.fail(w, r, err)
		return
	}
	c := store.Challenge{
		ID: "adm_" + hex.EncodeToString(id), Purpose: PurposeAdmin, QortalAddress: addr,
		CreatedAt: now, ExpiresAt: now.Add(h.challenge),
	}
	c.Message = buildMessage(messageParams{Issuer: h.issuer, Address: addr, Nonce: hex.EncodeToString(nonce), IssuedAt: now, ExpiresAt: c.ExpiresAt})
	if err := h.d.Store.CreateChallenge(r.Context(), c); err != nil {
		h.fail(w, r, fmt.Errorf("create admin challenge: %w", err))
		return
	}
	v.D = h.signView(c, "", "")
	h.render(w, r, http.StatusOK, "signin_sign.html", v)
}

func (h *Handler) signView(c store.Challenge, pub, sig string) signinView {
	return signinView{
		Address: c.QortalAddress, ChallengeID: c.ID, Message: c.Message, ExpiresAt: c.ExpiresAt,
		Command:   "printf '%s' " + shellQuote(c.Message) + " | qortal-oidc sign --key-file my.key",
		PublicKey: pub, Signature: sig,
	}
}

// signinVerify checks the signed challenge, consumes it once and opens a
// session when the address is an administrator.
func (h *Handler) signinVerify(w http.ResponseWriter, r *http.Request) {
	csrf, ok := h.signinForm(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	v := h.view("Sign in", "")
	v.CSRF = csrf
	restart := func(status int, msg, addr string) {
		v.Error = msg
		v.D = signinView{Address: addr}
		h.render(w, r, status, "signin.html", v)
	}

	id := r.PostForm.Get("challengeId")
	var c store.Challenge
	var err error
	if id == "" || len(id) > 128 {
		err = store.ErrNotFound
	} else {
		c, err = h.d.Store.GetChallenge(ctx, id)
	}
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && c.Purpose != PurposeAdmin):
		restart(http.StatusNotFound, "That sign-in challenge is unknown. Start again.", "")
		return
	case err != nil:
		h.fail(w, r, err)
		return
	case c.UsedAt != nil:
		restart(http.StatusConflict, "That challenge was already used. Start again to get a new one.", c.QortalAddress)
		return
	case !h.now().Before(c.ExpiresAt):
		restart(http.StatusGone, "That challenge expired at "+c.ExpiresAt.UTC().Format(time.RFC3339)+". Start again to get a new one.", c.QortalAddress)
		return
	}
	pub, sig, perr := proofFromForm(r, c.QortalAddress)
	if perr == nil {
		_, err = qortal.VerifyProof(c.QortalAddress, pub, sig, []byte(c.Message))
		perr = proofError(err, c.QortalAddress, pub)
	}
	if perr != nil {
		// Only failed proofs spend the address's budget: guessing for one
		// address is slow from any number of IPs, and a flood of wrong
		// signatures never keeps the owner's valid one out.
		if allowed, retry := h.d.AddressLimiter.Allow(r.Context(), c.QortalAddress); !allowed {
			h.tooMany(w, r, retry, "for this address")
			return
		}
		// The challenge stays usable: a mistyped paste can be retried.
		v.Error = perr.Error()
		v.D = h.signView(c, pub, sig)
		h.render(w, r, http.StatusBadRequest, "signin_sign.html", v)
		return
	}
	if _, err := h.d.Store.ConsumeChallenge(ctx, c.ID, h.now()); err != nil {
		switch {
		case errors.Is(err, store.ErrChallengeUsed):
			restart(http.StatusConflict, "That challenge was already used. Start again to get a new one.", c.QortalAddress)
		case errors.Is(err, store.ErrChallengeExpired):
			restart(http.StatusGone, "That challenge expired. Start again to get a new one.", c.QortalAddress)
		default:
			h.fail(w, r, err)
		}
		return
	}
	if !h.isAdmin(c.QortalAddress) {
		// Refused only after the proof, so the page never tells a stranger
		// which addresses are administrators.
		if err := h.d.Store.AppendAudit(ctx, store.AuditEntry{
			Actor: "wallet:" + c.QortalAddress, Action: "admin.signin_denied", Subject: c.QortalAddress, Detail: `{"reason":"not_admin"}`,
		}); err != nil {
			h.log.WarnContext(ctx, "console: audit refused sign-in", "err", err)
		}
		h.log.WarnContext(ctx, "console: sign-in by a non-admin address refused", "address", c.QortalAddress)
		v.Title = "Not an administrator"
		v.Error = "The Qortal address " + c.QortalAddress + " is not an administrator of this broker. " +
			"Only addresses listed in admin.addresses may sign in to the console."
		v.D = signinView{}
		h.render(w, r, http.StatusForbidden, "signin.html", v)
		return
	}
	// A new session on every sign-in (never reuse a cookie from before).
	if old, _ := h.loadSession(r); old != nil {
		h.endSession(ctx, old.hash, old.Address, "replaced")
	}
	detail, _ := json.Marshal(map[string]string{"challengeId": c.ID, "ip": ratelimit.ClientIP(r, h.trustProxy)})
	if err := h.startSession(ctx, w, c.QortalAddress, string(detail)); err != nil {
		h.fail(w, r, err)
		return
	}
	h.clearCookie(w, preCookie)
	h.log.InfoContext(ctx, "console: admin signed in", "address", c.QortalAddress)
	setHeaders(w.Header())
	http.Redirect(w, r, h.path("/"), http.StatusSeeOther)
}

// proofFromForm takes the public key and signature from the two fields or
// from the pasted JSON output of `qortal-oidc sign`.
func proofFromForm(r *http.Request, address string) (pub, sig string, err error) {
	pub = strings.TrimSpace(r.PostForm.Get("publicKey"))
	sig = strings.TrimSpace(r.PostForm.Get("signature"))
	if raw := strings.TrimSpace(r.PostForm.Get("proof")); raw != "" {
		var p struct{ Address, PublicKey, Signature string }
		if err := json.Unmarshal([]byte(raw), &p); err != nil {
			return pub, sig, errors.New("the pasted output is not valid JSON: paste it whole, or fill in the public key and signature instead")
		}
		if p.Address != "" && p.Address != address {
			return pub, sig, fmt.Errorf("that output is for %s, but you are signing in as %s", p.Address, address)
		}
		if p.PublicKey != "" {
			pub = p.PublicKey
		}
		if p.Signature != "" {
			sig = p.Signature
		}
	}
	if pub == "" || sig == "" {
		return pub, sig, errors.New("give both the public key and the signature (or paste the sign tool's JSON output)")
	}
	return pub, sig, nil
}

func proofError(err error, address, pub string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, qortal.ErrWeakPublicKey):
		return fmt.Errorf("bad_public_key: this public key cannot prove anything (%v)", err)
	case errors.Is(err, qortal.ErrAddressMismatch):
		if k, perr := qortal.ParsePublicKey(pub); perr == nil {
			return fmt.Errorf("this key belongs to %s, not to %s", qortal.AddressFromPublicKey(k), address)
		}
		return errors.New("this public key does not belong to the address you are signing in as")
	case errors.Is(err, qortal.ErrBadSignature):
		return errors.New("the signature does not match this challenge and public key")
	}
	return fmt.Errorf("the proof is malformed: %v", err)
}

// signout ends the session and returns to the sign-in page.
func (h *Handler) signout(w http.ResponseWriter, r *http.Request) {
	h.admin(func(w http.ResponseWriter, r *http.Request, s *session) {
		if _, err := h.d.Store.DeleteConsoleSession(r.Context(), s.hash, store.AuditEntry{
			Actor: s.Actor(), Action: "admin.signout", Subject: s.Address,
		}); err != nil && !errors.Is(err, store.ErrNotFound) {
			h.fail(w, r, err)
			return
		}
		h.clearCookie(w, sessionCookie)
		setHeaders(w.Header())
		http.Redirect(w, r, h.path("/signin?why=signedout"), http.StatusSeeOther)
	})(w, r)
}

func retrySeconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }
