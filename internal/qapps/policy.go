package qapps

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// GroupSource reads a user's Nextcloud groups (the Nextcloud client's
// UserGroups: OCS cloud/users/{id}/groups with the service account).
type GroupSource interface {
	UserGroups(ctx context.Context, userID string) ([]string, error)
}

// groupCache keeps each user's groups for ttl, so an app's many file
// requests cost one Nextcloud call. When Nextcloud fails, an entry up to
// staleFor old still answers: a Nextcloud restart must not lock everyone
// out of their apps, but a removal from a group still lands within minutes.
type groupCache struct {
	src      GroupSource
	ttl      time.Duration
	staleFor time.Duration
	now      func() time.Time

	mu      sync.Mutex
	entries map[string]groupEntry
}

type groupEntry struct {
	groups  []string
	fetched time.Time
}

const maxGroupCache = 50000

func (c *groupCache) groups(ctx context.Context, userID string) ([]string, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[userID]
	c.mu.Unlock()
	if ok && now.Sub(e.fetched) < c.ttl {
		return e.groups, nil
	}
	gs, err := c.src.UserGroups(ctx, userID)
	if err != nil {
		if ok && now.Sub(e.fetched) < c.staleFor {
			return e.groups, nil
		}
		return nil, err
	}
	c.mu.Lock()
	if len(c.entries) >= maxGroupCache {
		c.entries = map[string]groupEntry{}
	}
	c.entries[userID] = groupEntry{groups: gs, fetched: now}
	c.mu.Unlock()
	return gs, nil
}

// pageError is a refusal shown as an HTML page (or JSON on the bridge).
type pageError struct {
	Status  int
	Code    string
	Title   string
	Message string
}

func (e *pageError) Error() string { return e.Code + ": " + e.Message }

var errSignedOut = &pageError{http.StatusUnauthorized, "signed_out", "Signed out", "You signed out of Qortal sign-in (or an administrator ended your session). Open the app again to sign in."}

var errAppUnknown = &pageError{http.StatusNotFound, "app_not_found", "App not found", "This app is not approved on this gateway, or it was removed."}

// allow decides whether user may open app, on every request: the app must
// be enabled, the user still linked (a block or unlink stops them at once)
// and, when the app names groups, in one of them.
func (g *Gateway) allow(ctx context.Context, u claims, app store.QApp) error {
	if app.Disabled {
		return errAppUnknown
	}
	if u.Sid != "" {
		sess, err := g.store.GetSession(ctx, u.Sid)
		switch {
		case errors.Is(err, store.ErrNotFound) || err == nil && (sess.EndedAt != nil || !g.now().Before(sess.ExpiresAt)):
			return errSignedOut
		case err != nil:
			return &pageError{http.StatusServiceUnavailable, "store_unavailable", "Temporarily unavailable", "The gateway cannot check your sign-in right now. Try again shortly."}
		}
	}
	if g.opt.Standalone {
		if u.User != u.Address {
			return &pageError{http.StatusForbidden, "not_linked", "Sign in again", "This sign-in is not from this broker's standalone mode. Sign in again."}
		}
		if len(app.Groups) > 0 {
			return &pageError{http.StatusForbidden, "not_in_group", "Not allowed", "This app is limited to Nextcloud groups, and this broker runs without Nextcloud."}
		}
		return nil
	}
	m, err := g.store.GetMappingByUser(ctx, u.User)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &pageError{http.StatusForbidden, "not_linked", "Not linked", "Your Nextcloud account is no longer linked to a Qortal address. Sign in again."}
	case err != nil:
		return &pageError{http.StatusServiceUnavailable, "store_unavailable", "Temporarily unavailable", "The gateway cannot check your account right now. Try again shortly."}
	case m.Status != store.StatusLinked || m.QortalAddress != u.Address:
		return &pageError{http.StatusForbidden, "not_linked", "Access blocked", "Your account is blocked or linked to another Qortal address."}
	}
	if len(app.Groups) == 0 {
		return nil
	}
	if g.groups == nil {
		return &pageError{http.StatusServiceUnavailable, "groups_unavailable", "Cannot check groups", "This app is limited to some Nextcloud groups, but the gateway has no Nextcloud connection to check them."}
	}
	gs, err := g.groups.groups(ctx, u.User)
	if err != nil {
		g.log.WarnContext(ctx, "qapps: nextcloud groups lookup failed", "user", u.User, "err", err)
		return &pageError{http.StatusServiceUnavailable, "groups_unavailable", "Cannot check groups", "The gateway cannot reach Nextcloud to check your groups. Try again shortly."}
	}
	for _, want := range app.Groups {
		if slices.Contains(gs, want) {
			return nil
		}
	}
	return &pageError{http.StatusForbidden, "not_in_group", "Not allowed", "This app is only for members of some Nextcloud groups, and you are not in any of them. Ask an administrator if you need it."}
}
