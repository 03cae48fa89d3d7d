package login

import (
	"context"
	"errors"
	"net/http"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/policy"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Admission decides whether a proven address may log in (policy.Service):
// it returns the linked mapping, creating or linking the account when the
// login policy or an invite allows it. Refusals are *policy.Denial.
type Admission interface {
	Admit(ctx context.Context, address, inviteToken string) (store.Mapping, error)
	// CheckInvite is nil for a usable invite token, else a *policy.Denial.
	CheckInvite(ctx context.Context, token string) error
}

// resolve turns a proven address into the account to log in.
func (h *Handler) resolve(ctx context.Context, c store.Challenge, inviteToken string) (store.Mapping, *apiError) {
	if h.admission == nil {
		return h.resolveLinked(ctx, c)
	}
	m, err := h.admission.Admit(ctx, c.QortalAddress, inviteToken)
	var d *policy.Denial
	if err != nil && errors.As(err, &d) && d.Code != policy.CodeBlocked && h.selfService != "" && c.ClientID == h.selfService {
		// The account page: the proof is enough to see one's own account
		// (and that it is not linked); not a refused login.
		return store.Mapping{QortalAddress: c.QortalAddress, NextcloudUserID: c.QortalAddress, Status: store.StatusLinked}, nil
	}
	if err != nil {
		return store.Mapping{}, h.admissionError(ctx, c, err)
	}
	return m, nil
}

// admissionError reports a denial (403, with the denied page when the
// challenge belongs to a login) or an operational failure.
func (h *Handler) admissionError(ctx context.Context, c store.Challenge, err error) *apiError {
	var d *policy.Denial
	if errors.As(err, &d) {
		h.audit(ctx, "login.denied", c.QortalAddress, detail("clientId", c.ClientID, "reason", d.Code))
		e := newErr(http.StatusForbidden, d.Code, d.Description)
		if _, known := denyReasons[d.Code]; known && c.AuthRequestID != "" {
			e.RedirectTo = h.deniedURL(c.AuthRequestID, d.Code)
		}
		return e
	}
	var ae *apierror.Error
	if errors.As(err, &ae) && ae.Status != http.StatusInternalServerError {
		h.log.WarnContext(ctx, "admission failed", "address", c.QortalAddress, "err", err)
		e := newErr(ae.Status, ae.Code, ae.Message)
		e.retryAfter = ae.RetryAfter
		return e
	}
	return h.internal(ctx, "admission", err)
}

// resolveLinked is the rule without a policy: only linked mappings.
func (h *Handler) resolveLinked(ctx context.Context, c store.Challenge) (store.Mapping, *apiError) {
	m, err := h.store.GetMappingByAddress(ctx, c.QortalAddress)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && m.Status == store.StatusInvited):
		h.audit(ctx, "login.denied", c.QortalAddress, detail("clientId", c.ClientID, "reason", "not_linked"))
		e := newErr(http.StatusForbidden, "not_linked", "this Qortal address is not linked to an account here")
		e.RedirectTo = h.deniedURL(c.AuthRequestID, "not_linked")
		return m, e
	case err != nil:
		return m, h.internal(ctx, "get mapping", err)
	case m.Status == store.StatusBlocked:
		h.audit(ctx, "login.denied", c.QortalAddress, detail("clientId", c.ClientID, "reason", "blocked"))
		e := newErr(http.StatusForbidden, "blocked", "this Qortal address is blocked from signing in")
		e.RedirectTo = h.deniedURL(c.AuthRequestID, "blocked")
		return m, e
	case m.Status != store.StatusLinked:
		return m, h.internal(ctx, "mapping status", errors.New("unknown mapping status "+string(m.Status)))
	}
	return m, nil
}
