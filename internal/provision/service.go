// Package provision creates and links Nextcloud accounts for Qortal
// addresses. It is the one owner of the address <-> user mapping rules; HTTP
// handlers (and later the login flow's auto-provisioning) call it, and it
// calls the store and the Nextcloud client.
//
// Crash safety comes from determinism rather than locks: a new account's
// user id is derived from the address, and "the Nextcloud user already
// exists" is handled as "link it". So if the broker dies after creating the
// Nextcloud user but before writing the mapping, the next call finds the
// user and links it instead of creating a second one; two replicas racing on
// the same address end with one user and one mapping (the store's unique
// constraints pick the winner).
package provision

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Service implements provisioning.
type Service struct {
	store  store.Store
	nc     *nextcloud.Client // nil when no Nextcloud is configured
	cfg    config.Provision
	issuer string
	log    *slog.Logger
	now    func() time.Time
	locks  keyedMutex
}

// Deps are the Service's collaborators.
type Deps struct {
	Store     store.Store
	Nextcloud *nextcloud.Client
	Logger    *slog.Logger
	Now       func() time.Time
}

// New builds a Service.
func New(cfg config.Config, d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: d.Store, nc: d.Nextcloud, cfg: cfg.Provision, issuer: cfg.Issuer, log: d.Logger, now: d.Now}
}

// Request asks for an address to be linked, creating the account if needed.
type Request struct {
	QortalAddress   string
	NextcloudUserID string // optional: default from the user id template
	DisplayName     string
	Email           string
	Groups          []string
}

// Result is what an upsert did.
type Result struct {
	Mapping store.Mapping
	Created bool // this call created the Nextcloud user
}

// Upsert links req.QortalAddress to a Nextcloud user, creating the user when
// absent; calling it again returns the same mapping. actor names who asked,
// for the audit log.
func (s *Service) Upsert(ctx context.Context, actor string, req Request) (Result, error) {
	if err := validateRequest(&req); err != nil {
		return Result{}, err
	}
	unlock := s.locks.lock(req.QortalAddress)
	defer unlock()

	if m, err := s.store.GetMappingByAddress(ctx, req.QortalAddress); err == nil {
		if req.NextcloudUserID != "" && req.NextcloudUserID != m.NextcloudUserID {
			return Result{}, addressLinkedErr(m)
		}
		return Result{Mapping: m}, nil
	} else if !isNotFound(err) {
		return Result{}, storeErr(err)
	}

	uid := req.NextcloudUserID
	if uid == "" {
		uid = config.UserIDFor(s.cfg.UserIDTemplate, req.QortalAddress)
	}
	if m, err := s.store.GetMappingByUser(ctx, uid); err == nil {
		if m.QortalAddress == req.QortalAddress {
			return Result{Mapping: m}, nil // another replica linked this pair a moment ago
		}
		return Result{}, userLinkedErr(uid, m.QortalAddress)
	} else if !isNotFound(err) {
		return Result{}, storeErr(err)
	}
	nc, err := s.client()
	if err != nil {
		return Result{}, err
	}

	created := false
	user, err := nc.GetUser(ctx, uid)
	switch {
	case err == nil:
		if err := s.addGroups(ctx, uid, req.Groups); err != nil {
			return Result{}, err
		}
	case isNC(err, nextcloud.ErrNotFound):
		err = nc.CreateUser(ctx, nextcloud.NewUser{
			ID: uid, DisplayName: req.DisplayName, Email: req.Email,
			Groups: mergeGroups(s.cfg.DefaultGroups, req.Groups), Quota: s.cfg.DefaultQuota,
		})
		switch {
		case err == nil:
			created = true
			user = nextcloud.User{ID: uid, DisplayName: req.DisplayName, Email: req.Email}
		case isNC(err, nextcloud.ErrExists):
			// Another replica (or a call that crashed before linking) created
			// it a moment ago: link what is there.
			if user, err = nc.GetUser(ctx, uid); err != nil {
				return Result{}, nextcloudErr(err)
			}
		default:
			return Result{}, nextcloudErr(err)
		}
	default:
		return Result{}, nextcloudErr(err)
	}

	m := store.Mapping{
		QortalAddress:   req.QortalAddress,
		NextcloudUserID: uid,
		DisplayName:     firstNonEmpty(req.DisplayName, user.DisplayName),
		Email:           firstNonEmpty(req.Email, user.Email),
		Status:          store.StatusLinked,
	}
	// Nextcloud has acted; the mapping is written even if the caller has
	// gone meanwhile (an HTTP client timing out), so a created account is
	// not left unlinked until the next call heals it.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	m, err = s.createMapping(wctx, actor, m, created)
	if err != nil {
		return Result{}, err
	}
	s.log.InfoContext(ctx, "provisioned", "address", m.QortalAddress, "nextcloud_user", m.NextcloudUserID, "created", created, "actor", actor)
	return Result{Mapping: m, Created: created}, nil
}

// Link links an address to an existing Nextcloud user.
func (s *Service) Link(ctx context.Context, actor, address, uid string) (store.Mapping, error) {
	req := Request{QortalAddress: address, NextcloudUserID: uid}
	if err := validateRequest(&req); err != nil {
		return store.Mapping{}, err
	}
	if req.NextcloudUserID == "" {
		return store.Mapping{}, badRequest("invalid_user_id", "nextcloudUserId is required")
	}
	unlock := s.locks.lock(address)
	defer unlock()

	if m, err := s.store.GetMappingByAddress(ctx, address); err == nil {
		if m.NextcloudUserID == uid {
			return m, nil
		}
		return store.Mapping{}, addressLinkedErr(m)
	} else if !isNotFound(err) {
		return store.Mapping{}, storeErr(err)
	}
	if err := s.userFree(ctx, uid); err != nil {
		return store.Mapping{}, err
	}
	nc, err := s.client()
	if err != nil {
		return store.Mapping{}, err
	}
	user, err := nc.GetUser(ctx, uid)
	if isNC(err, nextcloud.ErrNotFound) {
		return store.Mapping{}, notFound("nextcloud_user_not_found", "Nextcloud user %q does not exist", uid)
	} else if err != nil {
		return store.Mapping{}, nextcloudErr(err)
	}
	return s.createMapping(ctx, actor, store.Mapping{
		QortalAddress: address, NextcloudUserID: uid,
		DisplayName: user.DisplayName, Email: user.Email, Status: store.StatusLinked,
	}, false)
}

// Unlink removes the mapping; the Nextcloud account is kept.
func (s *Service) Unlink(ctx context.Context, actor, address string) (store.Mapping, error) {
	if err := validAddress(address); err != nil {
		return store.Mapping{}, err
	}
	m, err := s.store.DeleteMapping(ctx, address, audit(actor, "mapping.delete", address, map[string]any{"address": address}))
	if isNotFound(err) {
		return store.Mapping{}, notFound("mapping_not_found", "address %s is not linked", address)
	}
	if err != nil {
		return store.Mapping{}, storeErr(err)
	}
	s.log.InfoContext(ctx, "unlinked", "address", address, "nextcloud_user", m.NextcloudUserID, "actor", actor)
	return m, nil
}

// SetStatus blocks, unblocks (linked) or marks invited the mapping of
// address. A blocked mapping can never log in, whatever the policy.
func (s *Service) SetStatus(ctx context.Context, actor, address string, status store.MappingStatus) (store.Mapping, error) {
	if !status.Valid() {
		return store.Mapping{}, badRequest("invalid_status", "status must be linked, invited or blocked")
	}
	m, err := s.Get(ctx, address)
	if err != nil {
		return store.Mapping{}, err
	}
	if m.Status == status {
		return m, nil
	}
	prev := m.Status
	m.Status = status
	m, err = s.store.UpdateMapping(ctx, m, audit(actor, "mapping.status", address, map[string]any{"from": prev, "to": status}))
	if isNotFound(err) {
		return store.Mapping{}, notFound("mapping_not_found", "address %s is not linked", address)
	} else if err != nil {
		return store.Mapping{}, storeErr(err)
	}
	s.log.InfoContext(ctx, "mapping status changed", "address", address, "from", prev, "to", status, "actor", actor)
	return m, nil
}

// Get returns the mapping for address.
func (s *Service) Get(ctx context.Context, address string) (store.Mapping, error) {
	if err := validAddress(address); err != nil {
		return store.Mapping{}, err
	}
	m, err := s.store.GetMappingByAddress(ctx, address)
	if isNotFound(err) {
		return store.Mapping{}, notFound("mapping_not_found", "address %s is not linked", address)
	}
	if err != nil {
		return store.Mapping{}, storeErr(err)
	}
	return m, nil
}

// List pages through mappings.
func (s *Service) List(ctx context.Context, opts store.ListOptions) (store.MappingPage, error) {
	if opts.Limit < 0 || opts.Limit > 500 {
		return store.MappingPage{}, badRequest("invalid_limit", "limit must be between 1 and 500")
	}
	if len(opts.Query) > 200 {
		return store.MappingPage{}, badRequest("invalid_query", "q must be at most 200 characters")
	}
	p, err := s.store.ListMappings(ctx, opts)
	if isNC(err, store.ErrInvalidCursor) {
		return store.MappingPage{}, badRequest("invalid_cursor", "cursor is not one this API returned")
	}
	if err != nil {
		return store.MappingPage{}, storeErr(err)
	}
	return p, nil
}

func (s *Service) client() (*nextcloud.Client, error) {
	if s.nc == nil {
		return nil, upstream(nil, "nextcloud_not_configured", "nextcloud is not configured (set nextcloud.url, user and app_password)")
	}
	return s.nc, nil
}

// userFree fails when uid is already linked to some address.
func (s *Service) userFree(ctx context.Context, uid string) error {
	m, err := s.store.GetMappingByUser(ctx, uid)
	if err == nil {
		return userLinkedErr(uid, m.QortalAddress)
	}
	if !isNotFound(err) {
		return storeErr(err)
	}
	return nil
}

func (s *Service) addGroups(ctx context.Context, uid string, groups []string) error {
	for _, g := range groups {
		if err := s.nc.AddToGroup(ctx, uid, g); err != nil {
			return nextcloudErr(err)
		}
	}
	return nil
}

// createMapping writes m; losing a race to another replica that linked the
// same pair is success, anything else is a conflict that says which side.
func (s *Service) createMapping(ctx context.Context, actor string, m store.Mapping, created bool) (store.Mapping, error) {
	out, err := s.store.CreateMapping(ctx, m, audit(actor, "mapping.create", m.QortalAddress, map[string]any{
		"nextcloudUserId": m.NextcloudUserID, "displayName": m.DisplayName, "email": m.Email,
		"status": m.Status, "nextcloudUserCreated": created,
	}))
	if err == nil {
		return out, nil
	}
	if !isNC(err, store.ErrAddressTaken) && !isNC(err, store.ErrUserTaken) {
		return store.Mapping{}, storeErr(err)
	}
	// A row with both values taken may be reported as either conflict;
	// look at what is stored to tell "already done" from a real conflict.
	if cur, gerr := s.store.GetMappingByAddress(ctx, m.QortalAddress); gerr == nil {
		if cur.NextcloudUserID == m.NextcloudUserID {
			return cur, nil
		}
		return store.Mapping{}, addressLinkedErr(cur)
	} else if !isNotFound(gerr) {
		return store.Mapping{}, storeErr(gerr)
	}
	cur, gerr := s.store.GetMappingByUser(ctx, m.NextcloudUserID)
	if gerr != nil {
		return store.Mapping{}, storeErr(gerr)
	}
	return store.Mapping{}, userLinkedErr(m.NextcloudUserID, cur.QortalAddress)
}

func audit(actor, action, subject string, detail map[string]any) store.AuditEntry {
	b, _ := json.Marshal(detail)
	return store.AuditEntry{Actor: actor, Action: action, Subject: subject, Detail: string(b)}
}

func mergeGroups(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, g := range append(append([]string{}, a...), b...) {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// keyedMutex serialises work per key inside one process, so simultaneous
// requests for one address don't race to Nextcloud; across replicas the
// store's unique constraints decide.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyLock{}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
