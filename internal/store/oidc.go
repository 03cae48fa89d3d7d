package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors of the OIDC part of the store (wrapped; test with errors.Is).
var (
	// ErrAuthRequestDone: the auth request was already completed.
	ErrAuthRequestDone = errors.New("auth request already completed")
	// ErrCodeUsed: the authorization code was already exchanged.
	ErrCodeUsed = errors.New("authorization code already used")
	// ErrRefreshTokenReused: a refresh token that had already been rotated
	// was presented again. The store has revoked the token's whole family
	// (and its access tokens) before returning this error.
	ErrRefreshTokenReused = errors.New("refresh token reused; token family revoked")
	// ErrClientExists: a client with that id is already registered.
	ErrClientExists = errors.New("client id already registered")
)

// OIDCClient is a relying party. Secrets are never stored, only SecretHash:
// the lowercase hex SHA-256 of the secret (secrets are high-entropy random
// strings, so a fast hash is enough). Public clients have no secret.
type OIDCClient struct {
	ID                     string
	Name                   string
	SecretHash             string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	BackchannelLogoutURI   string
	Public                 bool
	// FromConfig marks clients synced from the configuration file; the sync
	// replaces them and removes those no longer configured.
	FromConfig bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// AuthRequest is one /authorize call, from its start until its code is
// exchanged (or it expires). The fields after ExpiresAt are set once, when
// the user has proven control of a Qortal address.
type AuthRequest struct {
	ID                  string
	ClientID            string
	RedirectURI         string
	Scopes              []string
	State               string
	Nonce               string
	ResponseType        string
	ResponseMode        string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              []string
	MaxAge              *int64 // seconds; nil when the RP sent none
	LoginHint           string
	CreatedAt           time.Time
	ExpiresAt           time.Time

	Done          bool
	Subject       string // the linked Nextcloud user id
	QortalAddress string
	AuthTime      time.Time
	AMR           []string
	SessionID     string
}

// AuthCompletion is what a successful login adds to an auth request. The
// session it opens (SessionID) is created in the same transaction.
type AuthCompletion struct {
	Subject          string
	QortalAddress    string
	AuthTime         time.Time
	AMR              []string
	SessionID        string
	SessionExpiresAt time.Time

	// What else the login writes, in the same transaction, so that one
	// login costs one durable write here (see README "Performance"):
	//
	// Challenge, when set, is the login challenge the proof used; it is
	// recorded as used (see ChallengeStore.UseChallenge) and the whole
	// completion fails with ErrChallengeUsed or ErrChallengeExpired when it
	// cannot be.
	Challenge *Challenge
	// Code, when set, is the request's authorization code (AuthRequestID is
	// filled in), issued with the completion instead of by SaveAuthCode.
	Code *AuthCode
	// Audit entries are appended (At defaults to now).
	Audit []AuditEntry
	// Request, when set, is the pending request itself (ID the id given):
	// it was never stored and is inserted completed (see
	// OIDCStore.CompleteAuthRequest).
	Request *AuthRequest

	// NewBrokerSession, when set, is a broker (SSO) session opened by this
	// login, inserted in the same transaction. ReplacesBrokerSessionID, if
	// also set, is the browser's previous broker session: it is deleted and
	// its open OIDC sessions of the same address move to the new one (a
	// fresh signature rotates the cookie token).
	NewBrokerSession        *BrokerSession
	ReplacesBrokerSessionID string
	// BrokerSessionID, when set instead, is the live broker session that
	// vouches for this login (single sign-on without a signature): it must
	// exist, belong to QortalAddress and not be expired at now
	// (ErrNotFound otherwise); its LastSeenAt moves to now.
	BrokerSessionID string
}

// CodeExchange is what a successful code exchange writes: the code is
// redeemed under GrantID (see RedeemAuthCode) and the tokens are stored, in
// one transaction. The code (used) and its auth request (done) are kept
// until the request expires, so they keep refusing replays.
type CodeExchange struct {
	CodeHash  string
	GrantID   string
	KeepUntil time.Time     // the redemption record's expiry (see RedeemAuthCode)
	Access    *AccessToken  // RefreshFamilyID must be GrantID
	Refresh   *RefreshToken // optional; FamilyID must be GrantID
}

// CodeExchanged is what an exchange read in its transaction.
type CodeExchanged struct {
	// Mapping is the mapping of the access token's QortalAddress as the
	// exchange found it; nil when there is none (or no address).
	Mapping *Mapping
}

// AuthCode is an issued authorization code, stored by hash only.
type AuthCode struct {
	Hash          string // lowercase hex SHA-256 of the code
	AuthRequestID string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        *time.Time
}

// RedeemedCode is what is kept of an authorization code once exchanged. The
// code row goes with its auth request at issuance; this record stays so a
// replay of the code is still recognised, checked like a first redemption
// (client, redirect uri, PKCE), and revokes the grant the code gave.
type RedeemedCode struct {
	Hash                string // lowercase hex SHA-256 of the code
	GrantID             string // refresh family id of every token issued from the code
	ClientID            string
	RedirectURI         string
	CodeChallenge       string
	CodeChallengeMethod string
	RedeemedAt          time.Time
	ExpiresAt           time.Time
}

// AccessToken is an issued (opaque) access token, looked up by ID.
type AccessToken struct {
	ID              string
	ClientID        string
	Subject         string
	QortalAddress   string
	Scopes          []string
	Audience        []string
	SessionID       string
	RefreshFamilyID string // the grant: shared by all tokens from one code, even without a refresh token
	CreatedAt       time.Time
	ExpiresAt       time.Time
	RevokedAt       *time.Time
}

// RefreshToken is an issued refresh token, stored by hash. Every token
// obtained by rotating another shares its FamilyID.
type RefreshToken struct {
	ID            string // public handle (the revocation path needs an id)
	Hash          string // lowercase hex SHA-256 of the token value
	FamilyID      string
	ClientID      string
	Subject       string
	QortalAddress string
	Scopes        []string
	Audience      []string
	AMR           []string
	AuthTime      time.Time
	SessionID     string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	RotatedAt     *time.Time
	RevokedAt     *time.Time
}

// Session is one login of a user at a client (the OIDC "sid").
type Session struct {
	ID            string
	Subject       string
	ClientID      string
	QortalAddress string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	EndedAt       *time.Time
	// BrokerSessionID is the broker session the login came through ("" for
	// sessions from before broker sessions existed).
	BrokerSessionID string
}

// SigningKey is one token signing key. The private key is encrypted by the
// provider before it reaches the store; the store never sees it in clear.
type SigningKey struct {
	ID            string // JWK kid
	Algorithm     string // RS256, ES256, EdDSA
	PrivateKeyEnc []byte
	PublicJWK     []byte // JSON
	CreatedAt     time.Time
	ActiveFrom    time.Time  // first moment it may sign
	RetireAt      *time.Time // set once superseded: deleted after this
}

// AddSigningKeyOptions says when AddSigningKey may insert and what it does
// to the keys already there.
type AddSigningKeyOptions struct {
	// OnlyIfNoneCreatedSince, when set, makes the insert conditional: it
	// happens only when no key was created at or after this time. Zero time
	// means "only if there is no key at all" (bootstrap). The check and the
	// insert are serialised across replicas.
	OnlyIfNoneCreatedSince *time.Time
	// RetirePreviousAt is stored as RetireAt of every key that has none yet.
	RetirePreviousAt time.Time
}

// OIDCStore holds what the OpenID Provider persists. Every method is safe to
// call from many replicas sharing one database.
type OIDCStore interface {
	// CreateAuthRequest stores a new auth request (Done must be false).
	CreateAuthRequest(ctx context.Context, ar AuthRequest) error
	// GetAuthRequest returns the request whatever its state or expiry.
	GetAuthRequest(ctx context.Context, id string) (AuthRequest, error)
	// CompleteAuthRequest marks the request done exactly once and opens
	// the session: ErrNotFound when unknown or expired at now,
	// ErrAuthRequestDone when already done (or ended). With c.Request set
	// the request was never stored (the provider sealed it into its id):
	// it is inserted done, under id, exactly once.
	CompleteAuthRequest(ctx context.Context, id string, c AuthCompletion, now time.Time) (AuthRequest, error)
	// DeleteAuthRequest removes the request and its codes; unknown ids are
	// not an error.
	DeleteAuthRequest(ctx context.Context, id string) error
	// EndAuthRequest records that ar, a request that was never stored,
	// ended without a login (denied, or a silent login that failed): it is
	// inserted done and without a subject, so it can no longer complete;
	// ErrAuthRequestDone when it already completed or ended.
	EndAuthRequest(ctx context.Context, ar AuthRequest) error

	// SaveAuthCode stores a code for a done auth request.
	SaveAuthCode(ctx context.Context, c AuthCode) error
	// AuthRequestByCode returns the auth request a code belongs to:
	// ErrNotFound when the code is unknown or expired at now, ErrCodeUsed
	// when already exchanged.
	AuthRequestByCode(ctx context.Context, codeHash string, now time.Time) (AuthRequest, error)
	// RedeemAuthCode marks the code used, exactly once across replicas, and
	// records the redemption (RedeemedCode) in the same transaction; the
	// record outlives the code and its auth request until expiresAt.
	// grantID is the refresh family every token issued from the code
	// carries. ErrNotFound when the code is unknown or expired at now;
	// ErrCodeUsed when it was redeemed before, and then the grant recorded
	// at that redemption has been revoked before returning (RFC 6749 §4.1.2).
	RedeemAuthCode(ctx context.Context, codeHash, grantID string, expiresAt, now time.Time) error
	// ExchangeAuthCode redeems the code (exactly once across replicas, as
	// RedeemAuthCode) and stores x's tokens, in one transaction. On ErrNotFound or ErrCodeUsed nothing of
	// x is stored; ErrCodeUsed means a replay, and the grant of the first
	// redemption has been revoked before returning. It also reads, in that
	// transaction, the mapping of the access token's Qortal address (the
	// ID token's claims), so the exchange needs no read of its own.
	ExchangeAuthCode(ctx context.Context, x CodeExchange, now time.Time) (CodeExchanged, error)
	// GetRedeemedCode returns the record of a redeemed code: ErrNotFound
	// when there is none or it expired at now.
	GetRedeemedCode(ctx context.Context, codeHash string, now time.Time) (RedeemedCode, error)

	CreateAccessToken(ctx context.Context, t AccessToken) error
	// GetAccessToken returns the token whatever its state.
	GetAccessToken(ctx context.Context, id string) (AccessToken, error)
	RevokeAccessToken(ctx context.Context, id string, now time.Time) error

	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// GetRefreshToken returns the token whatever its state.
	GetRefreshToken(ctx context.Context, hash string) (RefreshToken, error)
	// RotateRefreshToken retires the token with oldHash and stores next
	// (which must carry the same FamilyID) atomically. ErrNotFound when the
	// old token is unknown, expired or revoked; ErrRefreshTokenReused when it
	// was ever rotated before (the family is then revoked).
	RotateRefreshToken(ctx context.Context, oldHash string, next RefreshToken, now time.Time) error
	// RevokeRefreshFamily revokes every refresh token of the family and the
	// access tokens issued with them.
	RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error

	GetSession(ctx context.Context, id string) (Session, error)
	// EndSession ends the session and revokes its tokens: ErrNotFound when
	// unknown or already ended, so only one caller sends logout tokens.
	EndSession(ctx context.Context, id string, now time.Time) (Session, error)
	// EndSessionsFor ends every open session of subject at clientID.
	EndSessionsFor(ctx context.Context, subject, clientID string, now time.Time) ([]Session, error)

	// AddSigningKey inserts k under opts; added is false when the condition
	// stopped it.
	AddSigningKey(ctx context.Context, k SigningKey, opts AddSigningKeyOptions) (added bool, err error)
	// ListSigningKeys returns all keys, oldest ActiveFrom first.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// DeleteRetiredSigningKeys removes keys whose RetireAt is before now.
	DeleteRetiredSigningKeys(ctx context.Context, now time.Time) (int, error)

	// CreateClient inserts c; ErrClientExists when the id is taken.
	CreateClient(ctx context.Context, c OIDCClient) error
	// UpsertClient inserts or replaces c (CreatedAt is kept on replace).
	UpsertClient(ctx context.Context, c OIDCClient) error
	GetClient(ctx context.Context, id string) (OIDCClient, error)
	// ListClients returns all clients ordered by id.
	ListClients(ctx context.Context) ([]OIDCClient, error)
	DeleteClient(ctx context.Context, id string) error

	// PurgeExpiredOIDC deletes auth requests, codes, tokens and sessions
	// that expired before now; it returns how many rows went.
	PurgeExpiredOIDC(ctx context.Context, now time.Time) (int, error)
}

// Validation shared by every backend, so they cannot drift apart.

const (
	maxOIDCShort = 255
	maxOIDCURI   = 2048
	maxOIDCList  = 64
	maxOIDCText  = 4096 // state, nonce, challenge: RPs send opaque blobs
)

func checkOIDCText(field, v string, limit int, required bool) error {
	if required && v == "" {
		return fmt.Errorf("%s is required", field)
	}
	if len(v) > limit {
		return fmt.Errorf("%s is longer than %d bytes", field, limit)
	}
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return fmt.Errorf("%s is not valid text", field)
	}
	return nil
}

func checkOIDCList(field string, vs []string, limit int) error {
	if len(vs) > maxOIDCList {
		return fmt.Errorf("%s has more than %d entries", field, maxOIDCList)
	}
	for _, v := range vs {
		if err := checkOIDCText(field, v, limit, true); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks the fields a backend writes for a new auth request.
func (ar AuthRequest) Validate() error {
	for _, f := range []struct {
		name, v string
		limit   int
		req     bool
	}{
		{"auth request id", ar.ID, maxOIDCShort, true},
		{"client id", ar.ClientID, maxOIDCShort, true},
		{"redirect uri", ar.RedirectURI, maxOIDCURI, true},
		{"state", ar.State, maxOIDCText, false},
		{"nonce", ar.Nonce, maxOIDCText, false},
		{"response type", ar.ResponseType, maxOIDCShort, true},
		{"response mode", ar.ResponseMode, maxOIDCShort, false},
		{"code challenge", ar.CodeChallenge, maxOIDCShort, false},
		{"code challenge method", ar.CodeChallengeMethod, maxOIDCShort, false},
		{"login hint", ar.LoginHint, maxOIDCText, false},
	} {
		if err := checkOIDCText(f.name, f.v, f.limit, f.req); err != nil {
			return err
		}
	}
	if err := checkOIDCList("scope", ar.Scopes, maxOIDCShort); err != nil {
		return err
	}
	if err := checkOIDCList("prompt", ar.Prompt, maxOIDCShort); err != nil {
		return err
	}
	if ar.Done {
		return errors.New("a new auth request cannot be done")
	}
	if !ar.ExpiresAt.After(ar.CreatedAt) {
		return errors.New("auth request must expire after its creation")
	}
	return nil
}

// Validate checks a login completion.
func (c AuthCompletion) Validate() error {
	if err := checkOIDCText("subject", c.Subject, 64, true); err != nil {
		return err
	}
	if err := checkOIDCText("qortal address", c.QortalAddress, 64, true); err != nil {
		return err
	}
	if err := checkOIDCText("session id", c.SessionID, maxOIDCShort, true); err != nil {
		return err
	}
	if c.AuthTime.IsZero() || c.SessionExpiresAt.IsZero() {
		return errors.New("auth time and session expiry are required")
	}
	if c.NewBrokerSession != nil {
		if c.BrokerSessionID != "" {
			return errors.New("a login either opens a broker session or reuses one, not both")
		}
		if err := CheckBrokerSession(*c.NewBrokerSession); err != nil {
			return err
		}
		if c.NewBrokerSession.QortalAddress != c.QortalAddress {
			return errors.New("the new broker session is for another address")
		}
	} else if c.ReplacesBrokerSessionID != "" {
		return errors.New("only a new broker session replaces another")
	}
	return checkOIDCList("amr", c.AMR, maxOIDCShort)
}

// Validate checks a client before it is written.
func (c OIDCClient) Validate() error {
	if err := ValidateClientID(c.ID); err != nil {
		return err
	}
	if err := checkOIDCText("client name", c.Name, maxOIDCShort, false); err != nil {
		return err
	}
	if c.Public != (c.SecretHash == "") {
		return errors.New("a client has a secret hash exactly when it is confidential")
	}
	if c.SecretHash != "" && (len(c.SecretHash) != 64 || strings.Trim(c.SecretHash, "0123456789abcdef") != "") {
		return errors.New("client secret hash must be 64 lowercase hex digits")
	}
	if len(c.RedirectURIs) == 0 {
		return errors.New("client needs at least one redirect uri")
	}
	if err := checkOIDCList("redirect uri", c.RedirectURIs, maxOIDCURI); err != nil {
		return err
	}
	if err := checkOIDCList("post logout redirect uri", c.PostLogoutRedirectURIs, maxOIDCURI); err != nil {
		return err
	}
	return checkOIDCText("backchannel logout uri", c.BackchannelLogoutURI, maxOIDCURI, false)
}

// ValidateClientID accepts ids made of letters, digits and . _ - ~ only: they
// travel unencoded in Basic auth headers and logout URLs (user_oidc does not
// encode them), so they must mean the same encoded or not.
func ValidateClientID(id string) error {
	if id == "" || len(id) > 128 {
		return errors.New("client id must be 1..128 characters")
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-~", r)
		if !ok {
			return fmt.Errorf("client id %q may only contain letters, digits and . _ - ~", id)
		}
	}
	return nil
}

// Validate checks a signing key before it is written.
func (k SigningKey) Validate() error {
	if err := checkOIDCText("key id", k.ID, maxOIDCShort, true); err != nil {
		return err
	}
	switch k.Algorithm {
	case "RS256", "ES256", "EdDSA":
	default:
		return fmt.Errorf("unsupported signing algorithm %q", k.Algorithm)
	}
	if len(k.PrivateKeyEnc) == 0 || len(k.PublicJWK) == 0 {
		return errors.New("signing key needs its encrypted private key and public JWK")
	}
	return nil
}
