package login

import (
	"errors"
	"net/http"

	"github.com/qortal-oidc/qortal-oidc/internal/oidcprovider"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// singleSignOn finishes a login without a signature when the browser has a
// live broker session the request accepts and the session's address is
// still admitted (the policy is asked again each time: a blocked or unlinked
// address gets no further logins from an old session). For prompt=none it
// always finishes: with the code, or with login_required. ok false means
// "show the signing page".
func (h *Handler) singleSignOn(w http.ResponseWriter, r *http.Request, ar oidcprovider.AuthRequestInfo) (string, bool) {
	ctx := r.Context()
	bs, signedIn := h.provider.SignedIn(r)
	if signedIn && h.provider.SessionSatisfies(ar, bs) {
		c := store.Challenge{QortalAddress: bs.QortalAddress, ClientID: ar.ClientID, AuthRequestID: ar.ID}
		if m, e := h.resolve(ctx, c, ""); e == nil {
			// The audit row goes in the completion's transaction.
			rec := oidcprovider.LoginRecord{Audit: []store.AuditEntry{{
				At: h.now(), Actor: "wallet:" + bs.QortalAddress, Action: "login.success", Subject: bs.QortalAddress,
				Detail: detail("clientId", ar.ClientID, "nextcloudUserId", m.NextcloudUserID, "method", "session"),
			}}}
			to, err := h.provider.CompleteLoginFromSession(ctx, ar.ID, m, bs, rec)
			if err == nil {
				h.metrics.Login("success", ar.ClientID)
				h.log.InfoContext(ctx, "login from broker session", "address", bs.QortalAddress, "client_id", ar.ClientID, "user_id", m.NextcloudUserID)
				return to, true
			}
			if !errors.Is(err, store.ErrNotFound) {
				h.log.WarnContext(ctx, "login from broker session", "err", err)
			}
		}
	}
	if !ar.PromptNone() {
		return "", false
	}
	why := "the user is not signed in at the broker"
	if signedIn {
		why = "the user must sign again"
	}
	to, err := h.provider.FailSilentLogin(ctx, ar.ID, why)
	if err != nil {
		h.log.WarnContext(ctx, "silent login", "err", err)
		return "", false
	}
	return to, true
}
