package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// QApp services the gateway serves: a QDN APP (client-side routing: unknown
// paths fall back to the index) or a WEBSITE.
const (
	QAppServiceApp     = "APP"
	QAppServiceWebsite = "WEBSITE"
)

// QApp is one approved Q-App in the gateway's catalog. The gateway serves
// only PinnedSignature, the resource's newest ARBITRARY transaction when an
// admin approved (or re-pinned) it, so a publisher's later change reaches
// users only after an admin looks at it.
type QApp struct {
	ID         string
	Service    string // QAppServiceApp or QAppServiceWebsite
	Name       string // the registered Qortal name that published it
	Identifier string // "" for the default resource
	Title      string
	Icon       string   // an https URL, a path on the gateway, or ""
	Groups     []string // Nextcloud groups that may open it; empty = every linked user
	Actions    []string // qortalRequest actions needing a signature that it may use
	// PinnedSignature is the Base58 transaction signature served.
	PinnedSignature string
	PinnedAt        time.Time
	Disabled        bool
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// ResourceKey identifies the QDN resource; Qortal names are unique without
// regard to case, so two entries for "Q-Mail" and "q-mail" are one resource.
func (a QApp) ResourceKey() string {
	return a.Service + "/" + strings.ToLower(a.Name) + "/" + a.Identifier
}

// QAppConsent records that a user let an app read their account
// (GET_USER_ACCOUNT), once per app.
type QAppConsent struct {
	AppID     string
	UserID    string
	GrantedAt time.Time
}

// QAppStore keeps the catalog and consents. Every change carries its audit
// entry, written in the same transaction.
type QAppStore interface {
	// CreateQApp inserts a (CreatedAt/UpdatedAt set by the store); ErrExists
	// when the id or the resource (service, name, identifier) is taken.
	CreateQApp(ctx context.Context, a QApp, audit AuditEntry) (QApp, error)
	GetQApp(ctx context.Context, id string) (QApp, error)
	// ListQApps returns the whole catalog ordered by title, then id.
	ListQApps(ctx context.Context) ([]QApp, error)
	// UpdateQApp replaces title, icon, groups, actions, pinned version and
	// disabled of a.ID (service and name are fixed); ErrNotFound when absent.
	UpdateQApp(ctx context.Context, a QApp, audit AuditEntry) (QApp, error)
	// DeleteQApp removes the entry and its consents and returns what it was.
	DeleteQApp(ctx context.Context, id string, audit AuditEntry) (QApp, error)
	// GrantQAppConsent records (or keeps) a consent; ErrNotFound when the
	// app does not exist.
	GrantQAppConsent(ctx context.Context, c QAppConsent, audit AuditEntry) error
	// GetQAppConsent returns the consent or ErrNotFound.
	GetQAppConsent(ctx context.Context, appID, userID string) (QAppConsent, error)
}

// MaxQApps bounds the catalog: it is listed whole on every home page.
const MaxQApps = 500

// CheckQApp validates an entry both backends are about to store.
func CheckQApp(a QApp) error {
	text := func(field, v string, limit int, required bool) error {
		if required && v == "" {
			return fmt.Errorf("qapp %s is required", field)
		}
		if len(v) > limit || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return fmt.Errorf("qapp %s must be at most %d bytes of UTF-8 without NUL", field, limit)
		}
		return nil
	}
	if err := text("id", a.ID, 64, true); err != nil {
		return err
	}
	if a.Service != QAppServiceApp && a.Service != QAppServiceWebsite {
		return fmt.Errorf("qapp service %q is not APP or WEBSITE", a.Service)
	}
	for _, f := range []struct {
		field, v string
		limit    int
		required bool
	}{{"name", a.Name, 128, true}, {"identifier", a.Identifier, 128, false}, {"title", a.Title, 200, false},
		{"icon", a.Icon, 2048, false}, {"pinned signature", a.PinnedSignature, 128, true}} {
		if err := text(f.field, f.v, f.limit, f.required); err != nil {
			return err
		}
	}
	for _, list := range []struct {
		field string
		v     []string
	}{{"group", a.Groups}, {"action", a.Actions}} {
		if len(list.v) > 100 {
			return fmt.Errorf("qapp has more than 100 %ss", list.field)
		}
		for _, s := range list.v {
			if err := text(list.field, s, 128, true); err != nil {
				return err
			}
		}
		if len(slices.Compact(slices.Sorted(slices.Values(list.v)))) != len(list.v) {
			return fmt.Errorf("qapp lists a %s twice", list.field)
		}
	}
	if a.PinnedAt.IsZero() {
		return fmt.Errorf("qapp pinned time is required")
	}
	return nil
}
