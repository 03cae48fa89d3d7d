package provision

import (
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

var (
	badRequest = apierror.BadRequest
	notFound   = apierror.NotFound
)

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// isNC is errors.Is, named for the sentinel families it is used with.
func isNC(err, target error) bool { return err != nil && errors.Is(err, target) }

func addressLinkedErr(m store.Mapping) error {
	return apierror.Conflict("address_linked", "address %s is already linked to Nextcloud user %q", m.QortalAddress, m.NextcloudUserID)
}

func userLinkedErr(uid, address string) error {
	return apierror.Conflict("user_linked", "Nextcloud user %q is already linked to address %s", uid, address)
}

func userExistsErr(uid string) error {
	return apierror.Conflict("nextcloud_user_exists", "a Nextcloud account %q already exists and was not created by this broker, so it is not linked automatically "+
		"(anyone able to create accounts could otherwise take over this address). If it belongs to this person, link it on purpose: "+
		"POST /api/provision/link with this nextcloudUserId, or upsert with \"nextcloudUserId\": %q, or send them an invite bound to it", uid, uid)
}

func storeErr(err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return apierror.Unavailable(err)
	}
	return fmt.Errorf("store: %w", err)
}

func upstream(err error, code, format string, args ...any) error {
	return apierror.Wrap(err, http.StatusBadGateway, code, format, args...)
}

// nextcloudErr turns a Nextcloud client error into the API's answer: input
// Nextcloud refused is the caller's to fix (400); everything else is the
// upstream's (502), named precisely so an admin knows where to look.
func nextcloudErr(err error) error {
	var ne *nextcloud.Error
	msg := err.Error()
	if errors.As(err, &ne) && ne.Message != "" {
		msg = ne.Message
	}
	switch {
	case errors.Is(err, nextcloud.ErrInvalid):
		return apierror.Wrap(err, http.StatusBadRequest, "nextcloud_rejected", "Nextcloud rejected the request: %s", msg)
	case errors.Is(err, nextcloud.ErrPolicyRejected):
		return upstream(err, "nextcloud_policy_rejected", "Nextcloud's policy rejected the request: %s", msg)
	case errors.Is(err, nextcloud.ErrUnauthorized):
		return upstream(err, "nextcloud_unauthorized", "Nextcloud rejected the broker's service account credentials (check nextcloud.user and app_password)")
	case errors.Is(err, nextcloud.ErrRateLimited):
		return upstream(err, "nextcloud_rate_limited", "Nextcloud is rate limiting the broker; retry later")
	case errors.Is(err, nextcloud.ErrUnreachable):
		return upstream(err, "nextcloud_unreachable", "Nextcloud is unreachable")
	case errors.Is(err, nextcloud.ErrUnavailable):
		// Maintenance mode or an overloaded Nextcloud: temporary, and
		// nothing was done, so the caller should simply come back.
		e := apierror.Wrap(err, http.StatusServiceUnavailable, "nextcloud_unavailable",
			"Nextcloud is temporarily unavailable (maintenance mode?); nothing was changed, retry later")
		e.RetryAfter = DefaultNextcloudRetryAfter
		if ne != nil && ne.RetryAfter > 0 {
			e.RetryAfter = ne.RetryAfter
		}
		return e
	default:
		return upstream(err, "nextcloud_error", "Nextcloud failed: %s", msg)
	}
}

// DefaultNextcloudRetryAfter is the Retry-After of nextcloud_unavailable when
// Nextcloud sent none (its maintenance mode sends none).
const DefaultNextcloudRetryAfter = 30 * time.Second

func validAddress(a string) error {
	if a == "" {
		return badRequest("invalid_address", "qortalAddress is required")
	}
	if err := qortal.ValidateAddress(a); err != nil {
		return apierror.Wrap(err, http.StatusBadRequest, "invalid_address", "qortalAddress %q is not a valid Qortal address: %v", truncate(a, 64), err)
	}
	return nil
}

// validateRequest checks and normalises every field before anything is
// written, so bad input can never leave half-done state behind.
func validateRequest(r *Request) error {
	r.QortalAddress = strings.TrimSpace(r.QortalAddress)
	if err := validAddress(r.QortalAddress); err != nil {
		return err
	}
	if r.NextcloudUserID != "" {
		if err := nextcloud.ValidUserID(r.NextcloudUserID); err != nil {
			return apierror.Wrap(err, http.StatusBadRequest, "invalid_user_id", "nextcloudUserId %q: %v", truncate(r.NextcloudUserID, 80), err)
		}
	}
	r.DisplayName = strings.TrimSpace(r.DisplayName)
	if utf8.RuneCountInString(r.DisplayName) > 64 || strings.ContainsAny(r.DisplayName, "\x00\r\n") {
		return badRequest("invalid_display_name", "displayName must be one line of at most 64 characters")
	}
	r.Email = strings.TrimSpace(r.Email)
	if r.Email != "" {
		if a, err := mail.ParseAddress(r.Email); err != nil || a.Address != r.Email || len(r.Email) > 254 {
			return badRequest("invalid_email", "email %q is not a plain e-mail address", truncate(r.Email, 80))
		}
	}
	if len(r.Groups) > 20 {
		return badRequest("invalid_groups", "at most 20 groups per request")
	}
	for _, g := range r.Groups {
		if g == "" || utf8.RuneCountInString(g) > 64 || strings.ContainsAny(g, "/\\\x00\r\n") {
			return badRequest("invalid_groups", "group %q must be 1-64 characters without slashes or line breaks", truncate(g, 80))
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
