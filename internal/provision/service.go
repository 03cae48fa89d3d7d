// Package provision creates and links Nextcloud accounts for Qortal
// addresses. It is the one owner of the address <-> user mapping rules; HTTP
// handlers (and later the login flow's auto-provisioning) call it, and it
// calls the store and the Nextcloud client.
//
// Crash safety comes from determinism plus a recorded intent: a new
// account's user id is derived from the address, and before creating it the
// service records "address -> uid, pending" in the store. If the broker dies
// after Nextcloud created the user but before the mapping was written, the
// next call finds the user and the intent and links it instead of creating a
// second one. An existing account without that intent was not made by the
// broker and is never linked unless someone names it (nextcloudUserId,
// /link, a bound invite). Two replicas racing on the same address end with
// one user and one mapping (the store's unique constraints pick the winner).
package provision

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// SessionEnder signs an address out everywhere: its broker sessions and
// relying party sessions end (tokens revoked) and each relying party hears
// of it over the back channel. oidcprovider.Provider implements it.
type SessionEnder interface {
	EndSessionsForAddress(ctx context.Context, address, reason string) (int, error)
}

// Service implements provisioning.
type Service struct {
	store    store.Store
	nc       *nextcloud.Client // nil when no Nextcloud is configured
	sessions SessionEnder      // nil: nothing to end (no OpenID Provider)
	cfg      config.Provision
	issuer   string
	log      *slog.Logger
	now      func() time.Time
	locks    keyedMutex
	metrics  Observer
}

// Observer counts provisioning outcomes (metrics.Metrics).
type Observer interface {
	Provisioned(op, outcome string)
}

type noObserver struct{}

func (noObserver) Provisioned(string, string) {}

// observe counts one call: created, ok, or the error's code.
func (s *Service) observe(op string, created bool, err error) {
	outcome := "ok"
	switch {
	case err != nil:
		outcome = apierror.As(err).Code
	case created:
		outcome = "created"
	}
	s.metrics.Provisioned(op, outcome)
}

// Deps are the Service's collaborators.
type Deps struct {
	Store     store.Store
	Nextcloud *nextcloud.Client
	// Sessions ends an address's sessions on block and unlink (optional).
	Sessions SessionEnder
	Logger   *slog.Logger
	Now      func() time.Time
	Metrics  Observer // nil: not counted
}

// New builds a Service.
func New(cfg config.Config, d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = noObserver{}
	}
	return &Service{store: d.Store, nc: d.Nextcloud, sessions: d.Sessions, cfg: cfg.Provision, issuer: cfg.Issuer, log: d.Logger, now: d.Now, metrics: d.Metrics}
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
//
// An existing Nextcloud account is linked only when it was named
// (req.NextcloudUserID) or when this broker created it for this address (a
// provision intent recorded before the create call): an account someone else
// made under the derived id is refused with nextcloud_user_exists, so nobody
// can pre-create a victim's account and keep its password.
func (s *Service) Upsert(ctx context.Context, actor string, req Request) (res Result, err error) {
	defer func() { s.observe("upsert", res.Created, err) }()
	if err := validateRequest(&req); err != nil {
		return Result{}, err
	}
	unlock := s.locks.lock(req.QortalAddress)
	defer unlock()

	named := req.NextcloudUserID != ""
	if m, err := s.store.GetMappingByAddress(ctx, req.QortalAddress); err == nil {
		if named && !sameUser(req.NextcloudUserID, m.NextcloudUserID) {
			return Result{}, addressLinkedErr(m)
		}
		return Result{Mapping: m}, nil
	} else if !isNotFound(err) {
		return Result{}, storeErr(err)
	}

	uid := req.NextcloudUserID
	if !named {
		uid = config.UserIDFor(s.cfg.UserIDTemplate, req.QortalAddress)
	}
	if m, err := s.store.GetMappingByUser(ctx, uid); err == nil {
		if m.QortalAddress == req.QortalAddress {
			return Result{Mapping: m}, nil // another replica linked this pair a moment ago
		}
		return Result{}, userLinkedErr(m.NextcloudUserID, m.QortalAddress)
	} else if !isNotFound(err) {
		return Result{}, storeErr(err)
	}
	nc, err := s.client()
	if err != nil {
		return Result{}, err
	}
	groups := mergeGroups(s.cfg.DefaultGroups, req.Groups)

	created, recovered := false, false
	user, err := nc.GetUser(ctx, uid)
	switch {
	case err == nil:
		if !named {
			mine, err := s.ownIntent(ctx, req.QortalAddress, user.ID)
			if err != nil {
				return Result{}, err
			}
			if !mine {
				return s.linkedMeanwhile(ctx, req.QortalAddress, user.ID)
			}
			// A previous call created it and died before the mapping.
			recovered = true
		}
		if err := s.addGroups(ctx, user.ID, groups); err != nil {
			return Result{}, err
		}
	case isNC(err, nextcloud.ErrNotFound):
		if !named {
			// Written before the create call, so a crash between
			// "created" and "mapped" still lets the next call link it.
			if _, err := s.store.RecordProvisionIntent(ctx, req.QortalAddress, uid); isNC(err, store.ErrUserTaken) {
				return Result{}, apierror.Conflict("user_linked", "Nextcloud user %q is being provisioned for another address", uid)
			} else if err != nil {
				return Result{}, storeErr(err)
			}
		}
		err = nc.CreateUser(ctx, nextcloud.NewUser{
			ID: uid, DisplayName: req.DisplayName, Email: req.Email,
			Groups: groups, Quota: s.cfg.DefaultQuota,
		})
		switch {
		case err == nil:
			created = true
			user = nextcloud.User{ID: uid, DisplayName: req.DisplayName, Email: req.Email}
		case isNC(err, nextcloud.ErrExists):
			// It appeared between the read and the create. Nearly always
			// another replica working on this same address (which recorded
			// the same intent); a stranger would have to create exactly
			// this id within that round trip, at a moment only the broker
			// knows. The intent must still be there (a failed call drops it).
			if user, err = nc.GetUser(ctx, uid); err != nil {
				return Result{}, nextcloudErr(err)
			}
			if !named {
				mine, err := s.ownIntent(ctx, req.QortalAddress, user.ID)
				if err != nil {
					return Result{}, err
				}
				if !mine {
					return s.linkedMeanwhile(ctx, req.QortalAddress, user.ID)
				}
			}
			if err := s.addGroups(ctx, user.ID, groups); err != nil {
				return Result{}, err
			}
		default:
			if !named && noUserCreated(err) {
				s.dropIntent(ctx, req.QortalAddress)
			}
			return Result{}, nextcloudErr(err)
		}
	default:
		return Result{}, nextcloudErr(err)
	}

	m := store.Mapping{
		QortalAddress:   req.QortalAddress,
		NextcloudUserID: user.ID, // Nextcloud's own spelling of the id
		DisplayName:     firstNonEmpty(req.DisplayName, user.DisplayName),
		Email:           firstNonEmpty(req.Email, user.Email),
		Status:          store.StatusLinked,
	}
	// Nextcloud has acted; the mapping is written even if the caller has
	// gone meanwhile (an HTTP client timing out), so a created account is
	// not left unlinked until the next call heals it.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	m, err = s.createMapping(wctx, actor, m, created, recovered)
	if err != nil {
		return Result{}, err
	}
	s.log.InfoContext(ctx, "provisioned", "address", m.QortalAddress, "nextcloud_user", m.NextcloudUserID,
		"created", created, "recovered", recovered, "actor", actor)
	return Result{Mapping: m, Created: created}, nil
}

// ownIntent says whether this broker recorded, before creating it, that the
// account uid is for address.
func (s *Service) ownIntent(ctx context.Context, address, uid string) (bool, error) {
	in, err := s.store.GetProvisionIntent(ctx, address)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, storeErr(err)
	}
	return sameUser(in.NextcloudUserID, uid), nil
}

// linkedMeanwhile is the answer for an existing account without this
// address's intent: either another replica created and linked it for this
// address a moment ago (writing the mapping removes the intent in the same
// transaction, and the intent is read first, so one of the two is seen), or
// it is not the broker's and is refused.
func (s *Service) linkedMeanwhile(ctx context.Context, address, uid string) (Result, error) {
	m, err := s.store.GetMappingByAddress(ctx, address)
	switch {
	case err == nil && sameUser(m.NextcloudUserID, uid):
		return Result{Mapping: m}, nil
	case err == nil:
		return Result{}, addressLinkedErr(m)
	case !isNotFound(err):
		return Result{}, storeErr(err)
	}
	return Result{}, userExistsErr(uid)
}

// dropIntent removes the address's intent; failing to is logged, not
// returned, because the caller is already reporting the real failure.
func (s *Service) dropIntent(ctx context.Context, address string) {
	if err := s.store.DeleteProvisionIntent(context.WithoutCancel(ctx), address); err != nil {
		s.log.WarnContext(ctx, "could not remove a provision intent", "address", address, "err", err)
	}
}

// noUserCreated: Nextcloud answered, and the answer means no account was
// made (after a timeout or a 5xx it may have been, so the intent stays).
func noUserCreated(err error) bool {
	var ne *nextcloud.Error
	if !errors.As(err, &ne) {
		return false
	}
	switch {
	case errors.Is(err, nextcloud.ErrInvalid):
		return ne.OCSStatus != 102 // 102 + ErrInvalid: created without quota/language
	case errors.Is(err, nextcloud.ErrPolicyRejected), errors.Is(err, nextcloud.ErrUnauthorized), errors.Is(err, nextcloud.ErrRateLimited):
		return true
	}
	return false
}

// sameUser compares Nextcloud user ids as Nextcloud does: without case.
func sameUser(a, b string) bool { return strings.EqualFold(a, b) }

// Link links an address to an existing Nextcloud user (named on purpose, so
// an account the broker did not create is fine here). The mapping keeps the
// id as Nextcloud spells it, and provision.default_groups apply.
func (s *Service) Link(ctx context.Context, actor, address, uid string) (_ store.Mapping, err error) {
	defer func() { s.observe("link", false, err) }()
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
		if sameUser(m.NextcloudUserID, uid) {
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
	if err := s.addGroups(ctx, user.ID, s.cfg.DefaultGroups); err != nil {
		return store.Mapping{}, err
	}
	return s.createMapping(ctx, actor, store.Mapping{
		QortalAddress: address, NextcloudUserID: user.ID,
		DisplayName: user.DisplayName, Email: user.Email, Status: store.StatusLinked,
	}, false, false)
}

// Unlink removes the mapping and signs the address out everywhere (its
// sessions end, relying parties hear of it over the back channel); the
// Nextcloud account is kept, with whatever app passwords it has.
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
	if err := s.endSessions(ctx, address, "unlinked"); err != nil {
		return store.Mapping{}, apierror.Wrap(err, http.StatusServiceUnavailable, "sessions_not_ended",
			"address %s is unlinked (it can no longer log in), but its open sessions could not be ended: %v", address, err)
	}
	return m, nil
}

// endSessions signs address out everywhere, detached from the caller: the
// change it follows is already made.
func (s *Service) endSessions(ctx context.Context, address, reason string) error {
	if s.sessions == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if _, err := s.sessions.EndSessionsForAddress(ctx, address, reason); err != nil {
		s.log.ErrorContext(ctx, "could not end the sessions of an address", "address", address, "reason", reason, "err", err)
		return err
	}
	return nil
}

// SetStatus blocks, unblocks (linked) or marks invited the mapping of
// address. A blocked mapping can never log in, whatever the policy.
//
// Blocking also signs the address out everywhere (back-channel logout to
// relying parties) and, with provision.disable_blocked_users, disables the
// Nextcloud account, because app passwords (Login Flow v2: desktop and
// mobile clients, WebDAV) outlive every broker token. Unblocking enables it
// again, before the status changes, so a failed unblock leaves the address
// blocked. Blocking an already blocked address repeats both steps, so a
// block whose Nextcloud call failed can simply be retried.
func (s *Service) SetStatus(ctx context.Context, actor, address string, status store.MappingStatus) (store.Mapping, error) {
	if !status.Valid() {
		return store.Mapping{}, badRequest("invalid_status", "status must be linked, invited or blocked")
	}
	if err := validAddress(address); err != nil {
		return store.Mapping{}, err
	}
	m, err := s.store.GetMappingByAddress(ctx, address)
	switch {
	case isNotFound(err) && s.nc == nil && status == store.StatusBlocked:
		if m, err = s.blockStandalone(ctx, actor, address); err != nil {
			return store.Mapping{}, err
		}
	case isNotFound(err):
		return store.Mapping{}, notFound("mapping_not_found", "address %s is not linked", address)
	case err != nil:
		return store.Mapping{}, storeErr(err)
	}
	prev := m.Status
	if prev == store.StatusBlocked && status != store.StatusBlocked {
		// Enable first: if Nextcloud refuses, the address stays blocked and
		// the unblock can simply be repeated.
		if err := s.setNextcloudEnabled(ctx, actor, m, true); err != nil {
			return store.Mapping{}, err
		}
	}
	if prev != status {
		m.Status = status
		m, err = s.store.UpdateMapping(ctx, m, audit(actor, "mapping.status", address, map[string]any{"from": prev, "to": status}))
		if isNotFound(err) {
			return store.Mapping{}, notFound("mapping_not_found", "address %s is not linked", address)
		} else if err != nil {
			return store.Mapping{}, storeErr(err)
		}
		s.log.InfoContext(ctx, "mapping status changed", "address", address, "from", prev, "to", status, "actor", actor)
	}
	if status == store.StatusBlocked {
		if err := s.endSessions(ctx, address, "blocked"); err != nil {
			return store.Mapping{}, apierror.Wrap(err, http.StatusServiceUnavailable, "sessions_not_ended",
				"address %s is blocked (it can no longer log in), but its open sessions could not be ended; repeat the block to retry: %v", address, err)
		}
		if err := s.setNextcloudEnabled(ctx, actor, m, false); err != nil {
			return store.Mapping{}, err
		}
	}
	return m, nil
}

// blockStandalone stores, blocked, the identity an address without a
// mapping signs in as when no Nextcloud is configured (the standalone
// policy: the address itself, policy.Standalone), because a blocked
// mapping is what every login refuses first. Unblocking it later (linked)
// leaves that same identity, so the subject never changes; unlinking
// removes the row. A concurrent block of the same address is the same
// outcome, not an error.
func (s *Service) blockStandalone(ctx context.Context, actor, address string) (store.Mapping, error) {
	m := store.Mapping{QortalAddress: address, NextcloudUserID: address, Status: store.StatusBlocked}
	out, err := s.store.CreateMapping(ctx, m, audit(actor, "mapping.status", address,
		map[string]any{"from": "none", "to": store.StatusBlocked, "standalone": true}))
	if isNC(err, store.ErrAddressTaken) || isNC(err, store.ErrUserTaken) {
		if cur, gerr := s.store.GetMappingByAddress(ctx, address); gerr == nil && cur.Status == store.StatusBlocked {
			return cur, nil
		}
	}
	if err != nil {
		return store.Mapping{}, storeErr(err)
	}
	s.log.InfoContext(ctx, "mapping status changed", "address", address, "from", "none", "to", store.StatusBlocked, "actor", actor)
	return out, nil
}

// setNextcloudEnabled disables (block) or enables (unblock) the mapped
// Nextcloud account when provision.disable_blocked_users is on, and records
// it in the audit log.
func (s *Service) setNextcloudEnabled(ctx context.Context, actor string, m store.Mapping, enabled bool) error {
	if !s.cfg.DisableBlockedUsers || s.nc == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	verb, action := "disabled", "nextcloud.user_disable"
	if enabled {
		verb, action = "enabled", "nextcloud.user_enable"
	}
	err := s.nc.SetEnabled(ctx, m.NextcloudUserID, enabled)
	if isNC(err, nextcloud.ErrNotFound) {
		// The account is gone (deleted in Nextcloud): nothing can use it.
		s.log.WarnContext(ctx, "nextcloud account to "+strings.TrimSuffix(verb, "d")+" does not exist", "address", m.QortalAddress, "nextcloud_user", m.NextcloudUserID)
		return nil
	}
	if err != nil {
		ne := apierror.As(nextcloudErr(err))
		e := apierror.Wrap(err, ne.Status, "nextcloud_"+strings.TrimSuffix(verb, "d")+"_failed",
			"Nextcloud user %q (address %s, %s in the broker) could not be %s (%s); repeat the request to retry",
			m.NextcloudUserID, m.QortalAddress, m.Status, verb, ne.Message)
		e.RetryAfter = ne.RetryAfter
		return e
	}
	if err := s.store.AppendAudit(ctx, audit(actor, action, m.QortalAddress, map[string]any{"nextcloudUserId": m.NextcloudUserID})); err != nil {
		s.log.WarnContext(ctx, "audit of a Nextcloud account change failed", "address", m.QortalAddress, "err", err)
	}
	s.log.InfoContext(ctx, "nextcloud account "+verb, "address", m.QortalAddress, "nextcloud_user", m.NextcloudUserID, "actor", actor)
	return nil
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

// userFree fails when uid (in any case) is already linked to some address.
func (s *Service) userFree(ctx context.Context, uid string) error {
	m, err := s.store.GetMappingByUser(ctx, uid)
	if err == nil {
		return userLinkedErr(m.NextcloudUserID, m.QortalAddress)
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
func (s *Service) createMapping(ctx context.Context, actor string, m store.Mapping, created, recovered bool) (store.Mapping, error) {
	detail := map[string]any{
		"nextcloudUserId": m.NextcloudUserID, "displayName": m.DisplayName, "email": m.Email,
		"status": m.Status, "nextcloudUserCreated": created,
	}
	if recovered {
		detail["nextcloudUserCreatedEarlier"] = true // by an earlier call that did not finish
	}
	out, err := s.store.CreateMapping(ctx, m, audit(actor, "mapping.create", m.QortalAddress, detail))
	if err == nil {
		return out, nil
	}
	if !isNC(err, store.ErrAddressTaken) && !isNC(err, store.ErrUserTaken) {
		return store.Mapping{}, storeErr(err)
	}
	// A row with both values taken may be reported as either conflict;
	// look at what is stored to tell "already done" from a real conflict.
	if cur, gerr := s.store.GetMappingByAddress(ctx, m.QortalAddress); gerr == nil {
		if sameUser(cur.NextcloudUserID, m.NextcloudUserID) {
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
	return store.Mapping{}, userLinkedErr(cur.NextcloudUserID, cur.QortalAddress)
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
