// Package qapps is the Q-Apps gateway: the catalog of approved Qortal apps
// (pinned to one version each), serving their files from the Qortal node on
// an origin of its own, the launcher page and the qortalRequest bridge, and
// the per-group policy from Nextcloud.
package qapps

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// SigningActions are the qortalRequest actions that need the user's
// signature; an admin may allow them per app. Everything the bridge does
// not know is refused.
var SigningActions = []string{
	"SIGN_TRANSACTION", "SEND_COIN", "SEND_CHAT_MESSAGE", "JOIN_GROUP",
	"PUBLISH_QDN_RESOURCE", "PUBLISH_MULTIPLE_QDN_RESOURCES", "VOTE_ON_POLL", "CREATE_POLL", "DEPLOY_AT",
}

// SupportedSigningActions are the signing actions the launcher can carry
// out today; the others are refused with "unsupported" even when allowed.
var SupportedSigningActions = []string{"SIGN_TRANSACTION", "SEND_COIN", "JOIN_GROUP", "SEND_CHAT_MESSAGE",
	"PUBLISH_QDN_RESOURCE", "PUBLISH_MULTIPLE_QDN_RESOURCES", "VOTE_ON_POLL", "CREATE_POLL"}

// Node is what the catalog needs from the Qortal node.
type Node interface {
	LatestVersion(ctx context.Context, service, name, identifier string) (qortalnode.Version, error)
	SearchResources(ctx context.Context, service, query string, limit int) ([]qortalnode.Resource, error)
}

// Catalog approves, edits, pins and removes apps; every change is audited.
type Catalog struct {
	store store.Store
	node  Node
	// OnUnpin, when set, is told the signature an entry stopped pinning
	// (a re-pin to another version, a delete) once the store has the change:
	// the gateway drops that version's cached files unless another entry
	// still pins it. Set it before serving.
	OnUnpin func(ctx context.Context, signature string)
}

// NewCatalog returns a catalog over st and the node.
func NewCatalog(st store.Store, node Node) *Catalog { return &Catalog{store: st, node: node} }

// Entry is an approved app with what the node says about it now.
type Entry struct {
	store.QApp
	// LatestSignature is the node's newest version ("" when the node could
	// not be asked; NodeError then says why).
	LatestSignature string
	UpdateAvailable bool
	NodeError       string
}

// Input is what an admin sends to create or change an entry; nil fields
// are left as they are on update.
type Input struct {
	Service    string    `json:"service"`
	Name       string    `json:"name"`
	Identifier string    `json:"identifier"`
	Title      *string   `json:"title"`
	Icon       *string   `json:"icon"`
	Groups     *[]string `json:"groups"`
	Actions    *[]string `json:"actions"`
	Disabled   *bool     `json:"disabled"`
}

// Qortal names: 3..40 characters (core's Name.MIN/MAX), no control
// characters; identifiers up to 64 characters of [A-Za-z0-9_.-].
var identifierRE = regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,64}$`)

func checkName(name string) error {
	n := utf8.RuneCountInString(name)
	if n < 1 || n > 40 || strings.TrimSpace(name) != name || strings.ContainsAny(name, "/\\?#%") || strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return apierror.BadRequest("invalid_name", "name must be a registered Qortal name (1-40 characters, no slashes, no surrounding spaces)")
	}
	return nil
}

func checkEditable(a *store.QApp, in Input) error {
	if in.Title != nil {
		t := strings.TrimSpace(*in.Title)
		if utf8.RuneCountInString(t) > 100 || strings.ContainsRune(t, 0) {
			return apierror.BadRequest("invalid_title", "title must be at most 100 characters")
		}
		a.Title = t
	}
	if in.Icon != nil {
		icon := strings.TrimSpace(*in.Icon)
		if icon != "" && !strings.HasPrefix(icon, "https://") && !strings.HasPrefix(icon, "/") || len(icon) > 2048 || strings.HasPrefix(icon, "//") {
			return apierror.BadRequest("invalid_icon", "icon must be an https:// URL or a path on the gateway")
		}
		a.Icon = icon
	}
	if in.Groups != nil {
		gs, err := cleanList(*in.Groups, "group")
		if err != nil {
			return err
		}
		a.Groups = gs
	}
	if in.Actions != nil {
		as, err := cleanList(*in.Actions, "action")
		if err != nil {
			return err
		}
		for _, x := range as {
			if !slices.Contains(SigningActions, x) {
				return apierror.BadRequest("unknown_action", "action %q is not a qortalRequest action that needs a signature (known: %s); read-only actions need no approval", x, strings.Join(SigningActions, ", "))
			}
		}
		a.Actions = as
	}
	if in.Disabled != nil {
		a.Disabled = *in.Disabled
	}
	return nil
}

func cleanList(in []string, what string) ([]string, error) {
	out := []string{}
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" || len(s) > 64 || strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			return nil, apierror.BadRequest("invalid_"+what, "each %s must be 1-64 characters without control characters", what)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) > 100 {
		return nil, apierror.BadRequest("invalid_"+what, "at most 100 %ss", what)
	}
	return out, nil
}

// nodeErr turns a node failure into the API's answer.
func nodeErr(err error, what string) error {
	switch {
	case errors.Is(err, qortalnode.ErrNotFound):
		return apierror.Wrap(err, http.StatusUnprocessableEntity, "not_published", "%s is not published on the Qortal node", what)
	case errors.Is(err, qortalnode.ErrTimeout):
		return apierror.Wrap(err, http.StatusGatewayTimeout, "qortal_node_timeout", "the Qortal node did not answer in time")
	case errors.Is(err, qortalnode.ErrUnavailable):
		return apierror.Wrap(err, http.StatusBadGateway, "qortal_node_unavailable", "the Qortal node is unavailable")
	}
	return apierror.Wrap(err, http.StatusBadGateway, "qortal_node_error", "the Qortal node answered unexpectedly")
}

func storeErr(err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return apierror.Wrap(err, http.StatusServiceUnavailable, "store_unavailable", "the broker's database is unavailable; retry shortly")
	}
	if errors.Is(err, store.ErrNotFound) {
		return apierror.NotFound("qapp_not_found", "no such approved app")
	}
	return fmt.Errorf("store: %w", err)
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func detail(a store.QApp, extra map[string]any) string {
	m := map[string]any{"service": a.Service, "name": a.Name, "identifier": a.Identifier, "title": a.Title,
		"groups": a.Groups, "actions": a.Actions, "pinnedSignature": a.PinnedSignature, "disabled": a.Disabled}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// Create approves a resource, pinned to the node's newest version.
func (c *Catalog) Create(ctx context.Context, actor string, in Input) (Entry, error) {
	in.Service, in.Name, in.Identifier = strings.ToUpper(strings.TrimSpace(in.Service)), strings.TrimSpace(in.Name), strings.TrimSpace(in.Identifier)
	if in.Service != store.QAppServiceApp && in.Service != store.QAppServiceWebsite {
		return Entry{}, apierror.BadRequest("invalid_service", "service must be APP or WEBSITE")
	}
	if err := checkName(in.Name); err != nil {
		return Entry{}, err
	}
	if in.Identifier == "default" {
		in.Identifier = ""
	}
	if in.Identifier != "" && !identifierRE.MatchString(in.Identifier) {
		return Entry{}, apierror.BadRequest("invalid_identifier", "identifier must be 1-64 characters of letters, digits, '_', '.' or '-'")
	}
	a := store.QApp{ID: newID(), Service: in.Service, Name: in.Name, Identifier: in.Identifier, Title: in.Name}
	if err := checkEditable(&a, in); err != nil {
		return Entry{}, err
	}
	if a.Title == "" {
		a.Title = in.Name
	}
	v, err := c.node.LatestVersion(ctx, a.Service, a.Name, a.Identifier)
	if err != nil {
		return Entry{}, nodeErr(err, fmt.Sprintf("%s %s", a.Service, a.Name))
	}
	a.PinnedSignature, a.PinnedAt = v.Signature, time.Now()
	out, err := c.store.CreateQApp(ctx, a, store.AuditEntry{Actor: actor, Action: "qapp.create", Subject: a.ID, Detail: detail(a, nil)})
	if errors.Is(err, store.ErrExists) {
		return Entry{}, apierror.Conflict("qapp_exists", "%s %s is already approved", a.Service, a.Name)
	}
	if err != nil {
		return Entry{}, storeErr(err)
	}
	return Entry{QApp: out, LatestSignature: v.Signature}, nil
}

// Update changes title, icon, groups, actions or disabled.
func (c *Catalog) Update(ctx context.Context, actor, id string, in Input) (Entry, error) {
	if in.Service != "" || in.Name != "" || in.Identifier != "" {
		return Entry{}, apierror.BadRequest("immutable_field", "service, name and identifier cannot change: approve the other resource as a new app")
	}
	a, err := c.store.GetQApp(ctx, id)
	if err != nil {
		return Entry{}, storeErr(err)
	}
	if err := checkEditable(&a, in); err != nil {
		return Entry{}, err
	}
	if a.Title == "" {
		a.Title = a.Name
	}
	out, err := c.store.UpdateQApp(ctx, a, store.AuditEntry{Actor: actor, Action: "qapp.update", Subject: id, Detail: detail(a, nil)})
	if err != nil {
		return Entry{}, storeErr(err)
	}
	return c.withNode(ctx, out), nil
}

// Pin moves the entry to the node's newest version.
func (c *Catalog) Pin(ctx context.Context, actor, id string) (Entry, error) {
	a, err := c.store.GetQApp(ctx, id)
	if err != nil {
		return Entry{}, storeErr(err)
	}
	v, err := c.node.LatestVersion(ctx, a.Service, a.Name, a.Identifier)
	if err != nil {
		return Entry{}, nodeErr(err, fmt.Sprintf("%s %s", a.Service, a.Name))
	}
	prev := a.PinnedSignature
	a.PinnedSignature, a.PinnedAt = v.Signature, time.Now()
	out, err := c.store.UpdateQApp(ctx, a, store.AuditEntry{Actor: actor, Action: "qapp.pin", Subject: id,
		Detail: detail(a, map[string]any{"previousSignature": prev})})
	if err != nil {
		return Entry{}, storeErr(err)
	}
	if prev != a.PinnedSignature && c.OnUnpin != nil {
		c.OnUnpin(ctx, prev)
	}
	return Entry{QApp: out, LatestSignature: v.Signature}, nil
}

// Delete removes an entry (and the consents given to it).
func (c *Catalog) Delete(ctx context.Context, actor, id string) (store.QApp, error) {
	a, err := c.store.DeleteQApp(ctx, id, store.AuditEntry{Actor: actor, Action: "qapp.delete", Subject: id})
	if err != nil {
		return store.QApp{}, storeErr(err)
	}
	if c.OnUnpin != nil {
		c.OnUnpin(ctx, a.PinnedSignature)
	}
	return a, nil
}

// Get returns one entry with the node's view.
func (c *Catalog) Get(ctx context.Context, id string) (Entry, error) {
	a, err := c.store.GetQApp(ctx, id)
	if err != nil {
		return Entry{}, storeErr(err)
	}
	return c.withNode(ctx, a), nil
}

// List returns the catalog; withNode asks the node for each entry's newest
// version ("update available"), concurrently and bounded by ctx.
func (c *Catalog) List(ctx context.Context, withNode bool) ([]Entry, error) {
	apps, err := c.store.ListQApps(ctx)
	if err != nil {
		return nil, storeErr(err)
	}
	out := make([]Entry, len(apps))
	if !withNode {
		for i, a := range apps {
			out[i] = Entry{QApp: a}
		}
		return out, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	done := make(chan struct{}, len(apps))
	sem := make(chan struct{}, 4)
	for i, a := range apps {
		go func() {
			sem <- struct{}{}
			out[i] = c.withNode(ctx, a)
			<-sem
			done <- struct{}{}
		}()
	}
	for range apps {
		<-done
	}
	return out, nil
}

func (c *Catalog) withNode(ctx context.Context, a store.QApp) Entry {
	e := Entry{QApp: a}
	v, err := c.node.LatestVersion(ctx, a.Service, a.Name, a.Identifier)
	if err != nil {
		e.NodeError = apierror.As(nodeErr(err, a.Name)).Message
		return e
	}
	e.LatestSignature = v.Signature
	e.UpdateAvailable = v.Signature != a.PinnedSignature
	return e
}

// Search lists the node's resources of service matching query, marking the
// ones already approved.
func (c *Catalog) Search(ctx context.Context, service, query string) ([]qortalnode.Resource, error) {
	service = strings.ToUpper(strings.TrimSpace(service))
	if service == "" {
		service = store.QAppServiceApp
	}
	if service != store.QAppServiceApp && service != store.QAppServiceWebsite {
		return nil, apierror.BadRequest("invalid_service", "service must be APP or WEBSITE")
	}
	res, err := c.node.SearchResources(ctx, service, strings.TrimSpace(query), 50)
	if err != nil {
		return nil, nodeErr(err, "the search")
	}
	return res, nil
}

// LaunchURL is where a user opens app id: the launcher on the gateway.
func LaunchURL(origin, id string) string { return origin + "/app/" + id + "/" }
