// Package store defines everything the broker persists, behind one interface
// that every backend (embedded SQLite, Postgres) implements and that one
// conformance suite (store/conformance) checks. Services depend on this
// package only, never on a backend.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors every backend returns (wrapped with context; test with errors.Is).
var (
	ErrNotFound = errors.New("not found")
	// ErrAddressTaken: the Qortal address already has a mapping.
	ErrAddressTaken = errors.New("qortal address already linked")
	// ErrUserTaken: the Nextcloud user id is already linked to another address.
	ErrUserTaken = errors.New("nextcloud user already linked")
	// ErrChallengeUsed: the challenge was already consumed.
	ErrChallengeUsed = errors.New("challenge already used")
	// ErrChallengeExpired: the challenge's expiry has passed.
	ErrChallengeExpired = errors.New("challenge expired")
	// ErrUnavailable wraps failures to reach the database at all, so the
	// HTTP layer can answer 503 instead of 500.
	ErrUnavailable = errors.New("store unavailable")
	// ErrInvalidCursor: a ListOptions.Cursor that no listing produced
	// (tampered, truncated, or from another listing).
	ErrInvalidCursor = errors.New("invalid cursor")
)

// MappingStatus is the state of an address <-> Nextcloud user link.
type MappingStatus string

const (
	StatusLinked  MappingStatus = "linked"
	StatusInvited MappingStatus = "invited"
	StatusBlocked MappingStatus = "blocked"
)

// Valid reports whether s is one of the known statuses.
func (s MappingStatus) Valid() bool {
	switch s {
	case StatusLinked, StatusInvited, StatusBlocked:
		return true
	}
	return false
}

// Mapping links one Qortal address to one Nextcloud user; both sides are
// unique, the user id case-insensitively (as Nextcloud compares ids), and the
// id is kept exactly as Nextcloud spells it.
type Mapping struct {
	QortalAddress   string
	NextcloudUserID string
	DisplayName     string
	Email           string
	Status          MappingStatus
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// AuditEntry records one change: who did what to which subject, and when.
// Mutating store methods take the entry and write it in the same transaction
// as the change, so the audit log can never disagree with the data.
type AuditEntry struct {
	ID      int64
	At      time.Time // set by the store when zero
	Actor   string    // e.g. "admin:default", "wallet:Q...", "system"
	Action  string    // e.g. "mapping.create", "mapping.update", "mapping.delete"
	Subject string    // usually the Qortal address
	Detail  string    // JSON object with the changed fields; never secrets
}

// Challenge is a one-time message a user signs with their Qortal key.
type Challenge struct {
	ID            string
	Purpose       string // "provision", "login", later "onboard", "admin"
	QortalAddress string // the address it was issued for; may be empty for provision
	Message       string // the exact text to sign
	AuthRequestID string // login only: the OIDC auth request it is bound to
	ClientID      string // login only: the relying party
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        *time.Time
}

// ListOptions selects one page of a listing. Cursor is opaque to callers:
// pass the NextCursor of the previous page.
type ListOptions struct {
	Limit  int    // 1..500; 0 means the backend default (50)
	Cursor string // "" for the first page
	Query  string // case-insensitive substring over address, user id, display name, email
}

// MappingPage is one page of mappings ordered by qortal_address.
type MappingPage struct {
	Mappings   []Mapping
	NextCursor string // "" when this is the last page
}

// AuditPage is one page of audit entries, newest first.
type AuditPage struct {
	Entries    []AuditEntry
	NextCursor string
}

// ProvisionIntent records that the broker is about to create Nextcloud user
// NextcloudUserID for QortalAddress. It is written before the create call and
// removed with the mapping's creation, so an existing Nextcloud account is
// linked without being named only when the broker itself created it.
type ProvisionIntent struct {
	QortalAddress   string
	NextcloudUserID string
	CreatedAt       time.Time
}

// MappingStore persists address <-> Nextcloud user links.
type MappingStore interface {
	// CreateMapping inserts m; ErrAddressTaken or ErrUserTaken (also for an
	// id differing only in case from a linked one) on conflict. It removes
	// the address's provision intent in the same transaction.
	CreateMapping(ctx context.Context, m Mapping, audit AuditEntry) (Mapping, error)
	GetMappingByAddress(ctx context.Context, address string) (Mapping, error)
	// GetMappingByUser finds the mapping of a user id, case-insensitively.
	GetMappingByUser(ctx context.Context, nextcloudUserID string) (Mapping, error)
	// RecordProvisionIntent stores (or replaces) the address's intent and
	// returns what is stored; recording the same pair again (the id compared
	// case-insensitively) keeps the first CreatedAt. ErrUserTaken when
	// another address has an intent for the same user id.
	RecordProvisionIntent(ctx context.Context, address, nextcloudUserID string) (ProvisionIntent, error)
	// GetProvisionIntent returns the address's intent or ErrNotFound.
	GetProvisionIntent(ctx context.Context, address string) (ProvisionIntent, error)
	// DeleteProvisionIntent removes the address's intent; absent is not an error.
	DeleteProvisionIntent(ctx context.Context, address string) error
	// UpdateMapping replaces display name, email and status of the mapping
	// for m.QortalAddress (the user id is fixed once linked).
	UpdateMapping(ctx context.Context, m Mapping, audit AuditEntry) (Mapping, error)
	// DeleteMapping removes the mapping and returns what it was.
	DeleteMapping(ctx context.Context, address string, audit AuditEntry) (Mapping, error)
	ListMappings(ctx context.Context, opts ListOptions) (MappingPage, error)
	CountMappings(ctx context.Context) (map[MappingStatus]int, error)
}

// AuditStore reads the audit log (entries are written by mutating methods).
type AuditStore interface {
	AppendAudit(ctx context.Context, e AuditEntry) error
	ListAudit(ctx context.Context, opts ListOptions) (AuditPage, error)
}

// ChallengeStore keeps issued challenges until they are used or expire.
type ChallengeStore interface {
	CreateChallenge(ctx context.Context, c Challenge) error
	// GetChallenge returns the challenge whatever its state; callers check
	// UsedAt/ExpiresAt for a precise message before doing expensive work.
	GetChallenge(ctx context.Context, id string) (Challenge, error)
	// ConsumeChallenge atomically marks the challenge used, exactly once
	// across all replicas: ErrNotFound, ErrChallengeUsed or ErrChallengeExpired
	// otherwise.
	ConsumeChallenge(ctx context.Context, id string, now time.Time) (Challenge, error)
	// UseChallenge records c, a challenge issued without being stored (the
	// login page's are sealed, see package login), as used at now: exactly
	// once across replicas. ErrChallengeUsed when c.ID was recorded before,
	// ErrChallengeExpired when c has expired at now.
	UseChallenge(ctx context.Context, c Challenge, now time.Time) error
	// DeleteExpiredChallenges removes challenges that expired before t.
	DeleteExpiredChallenges(ctx context.Context, t time.Time) (int, error)
}

// FaultCounter is implemented by backends that count the errors they
// classify as ErrUnavailable, monotonically over the store's life. The HTTP
// layer compares the count before and after a request to tell an outage from
// a bad request even where a library (zitadel's op) hides the error
// (package outage).
type FaultCounter interface {
	UnavailableEvents() uint64
}

// Store is everything the broker persists.
type Store interface {
	MappingStore
	AuditStore
	ChallengeStore
	OIDCStore
	AdminStore
	ConsoleStore
	BrokerSessionStore
	QAppStore
	RateLimitStore
	// Ping checks the database is reachable (readiness).
	Ping(ctx context.Context) error
	Close() error
}
